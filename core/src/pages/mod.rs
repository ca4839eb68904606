//! The HTML pages, rendered from plain functions: the landing page, the success page with the
//! permanent URLs, the owner's dashboard (`dashboard*`, `standing`, `times`), and the error
//! page. Every interpolated value goes through [`escape`].

mod confirm;
mod copy;
mod credentials;
mod dashboard;
mod dashboard_card;
mod dashboard_clients;
mod dashboard_script;
mod dashboard_style;
mod error;
mod landing;
mod layout;
mod login;
mod reconnected;
mod standing;
mod success;
mod times;

pub use confirm::confirm_page;
pub use credentials::{FormTarget, api_key_page, client_needed_page, credentials_page};
pub use dashboard::{Dashboard, dashboard_page, old_url_sentence};
pub use error::error_page;
pub use landing::landing_page;
pub use layout::escape;
pub use login::{login_page, safe_next};
pub use reconnected::reconnected_page;
pub use success::{cli_done_page, success_page};
