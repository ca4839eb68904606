//! The terminal side: whether stdin/stderr are terminals, prompts, the spinner and the browser.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{CliError, Result};
use bindify_core::admin::AdminToken;

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A line to stderr (progress and hints; stdout is for results).
pub fn note(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// Asks a yes/no question on stderr and reads the answer from stdin; anything but y/yes is no.
pub fn confirm(question: &str) -> Result<bool> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Local(format!("cannot read the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The admin token from a hidden prompt (a terminal) or from all of stdin (a pipe).
pub fn read_token() -> Result<Option<AdminToken>> {
    if stdin_is_terminal() {
        let text = rpassword::prompt_password("Admin token (the Worker's ADMIN_TOKEN): ")
            .map_err(|e| CliError::Local(format!("cannot read the token: {e}")))?;
        return Ok(AdminToken::parse(&zeroize::Zeroizing::new(text)));
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| CliError::Local(format!("cannot read the token from standard input: {e}")))?;
    Ok(AdminToken::parse(&text))
}

/// A secret (a client secret, an API key) from a hidden prompt (a terminal) or from all of
/// stdin (a pipe), trimmed; `None` when empty.
pub fn read_secret(prompt: &str) -> Result<Option<zeroize::Zeroizing<String>>> {
    let text = if stdin_is_terminal() {
        zeroize::Zeroizing::new(
            rpassword::prompt_password(prompt)
                .map_err(|e| CliError::Local(format!("cannot read the secret: {e}")))?,
        )
    } else {
        let mut text = zeroize::Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| {
                CliError::Local(format!("cannot read the secret from standard input: {e}"))
            })?;
        text
    };
    let trimmed = text.trim();
    Ok((!trimmed.is_empty()).then(|| zeroize::Zeroizing::new(trimmed.to_owned())))
}

/// Opens a URL in a browser, or says why it could not.
pub type Opener<'a> = &'a dyn Fn(&str) -> std::result::Result<(), String>;

/// Opens `url` in the default browser. Waits a few seconds for the opener to report; one that
/// is still busy then (some keep running while the browser starts) counts as opened.
pub fn open_browser(url: &str) -> std::result::Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let owned = url.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(open::that(&owned).map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Ok(()),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("the opener stopped".into()),
    }
}

/// Whether BINDIFY_NO_BROWSER asks for no browser.
pub fn no_browser_env(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// A spinner on stderr, drawn only when stderr is a terminal.
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    pub fn start(message: &str) -> Self {
        if !stderr_is_terminal() {
            return Spinner(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner(Some(bar))
    }

    pub fn stop(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::no_browser_env;

    #[test]
    fn no_browser_values() {
        for v in ["1", "true", "YES", " on "] {
            assert!(no_browser_env(Some(v)), "{v}");
        }
        for v in [None, Some(""), Some("0"), Some("false")] {
            assert!(!no_browser_env(v), "{v:?}");
        }
    }
}
