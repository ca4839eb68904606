//! The HTML pages, rendered from plain functions: the landing page, the success page with the
//! permanent URLs, and the error page. Every interpolated value goes through [`escape`].

mod error;
mod landing;
mod layout;
mod reconnected;
mod success;

pub use error::error_page;
pub use landing::landing_page;
pub use layout::escape;
pub use reconnected::reconnected_page;
pub use success::success_page;
