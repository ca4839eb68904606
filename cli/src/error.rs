//! Every way a command can fail, each with a message that says what went wrong and what to
//! do, and the exit code it maps to. The admin token never reaches a variant: no error can
//! print it.

/// The documented exit codes (also in `bindify --help` and cli/README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Generic = 1,
    Usage = 2,
    Unreachable = 3,
    Unauthorized = 4,
    NotFound = 5,
    FlowFailed = 6,
    TimedOut = 7,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or configuration: nothing was sent.
    #[error("{0}")]
    Usage(String),

    /// No HTTP answer at all from the Worker.
    #[error(
        "could not reach {url}: {reason}. Check the URL with `bindify login --worker <url>` \
         (or --worker / BINDIFY_WORKER_URL)"
    )]
    Unreachable { url: String, reason: String },

    /// 401 (no or wrong token) or 429 (too many wrong tokens).
    #[error("{0}")]
    Unauthorized(String),

    /// Unknown connection (label or id) or connect code.
    #[error("{0}")]
    NotFound(String),

    /// The authorization flow ended without a connection (denied at the upstream, or failed).
    #[error("{0}")]
    FlowFailed(String),

    /// Waited too long for the browser flow.
    #[error("{0}")]
    TimedOut(String),

    /// Any other answer of the Worker that is not a success.
    #[error("{0}")]
    Api(String),

    /// Reading or writing local files, the terminal.
    #[error("{0}")]
    Local(String),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Unreachable { .. } => Exit::Unreachable,
            CliError::Unauthorized(_) => Exit::Unauthorized,
            CliError::NotFound(_) => Exit::NotFound,
            CliError::FlowFailed(_) => Exit::FlowFailed,
            CliError::TimedOut(_) => Exit::TimedOut,
            CliError::Api(_) | CliError::Local(_) => Exit::Generic,
        }
    }

    /// A stable word for `--json` error output.
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Unreachable { .. } => "unreachable",
            CliError::Unauthorized(_) => "unauthorized",
            CliError::NotFound(_) => "not_found",
            CliError::FlowFailed(_) => "flow_failed",
            CliError::TimedOut(_) => "timed_out",
            CliError::Api(_) => "api_error",
            CliError::Local(_) => "local_error",
        }
    }
}

pub type Result<T> = std::result::Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let cases = [
            (CliError::Usage("u".into()), 2),
            (
                CliError::Unreachable {
                    url: "https://w.example".into(),
                    reason: "refused".into(),
                },
                3,
            ),
            (CliError::Unauthorized("w".into()), 4),
            (CliError::NotFound("n".into()), 5),
            (CliError::FlowFailed("f".into()), 6),
            (CliError::TimedOut("t".into()), 7),
            (CliError::Api("a".into()), 1),
            (CliError::Local("l".into()), 1),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit().code(), code, "{error:?}");
        }
        assert_eq!(Exit::Ok.code(), 0);
    }

    #[test]
    fn unreachable_says_what_to_do() {
        let e = CliError::Unreachable {
            url: "https://w.example".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(
            e.to_string(),
            "could not reach https://w.example: connection refused. Check the URL with \
             `bindify login --worker <url>` (or --worker / BINDIFY_WORKER_URL)"
        );
    }
}
