//! How a [`CliStatus`] is read. It is written internally tagged (a `"status"` field beside the
//! variant's fields); this reads the same JSON in one pass, without the buffering serde's own
//! reader of a tagged enum needs (see `record::tagged`).

use serde::Deserialize;

use super::CliStatus;

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Pending,
    Started,
    Connected,
    Failed,
}

#[derive(Deserialize)]
pub(super) struct CliStatusWire {
    status: Kind,
    id: Option<String>,
    label: Option<String>,
    upstream: Option<String>,
    mcp_url: Option<String>,
    sse_url: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

impl TryFrom<CliStatusWire> for CliStatus {
    type Error = &'static str;

    fn try_from(w: CliStatusWire) -> Result<Self, Self::Error> {
        Ok(match w.status {
            Kind::Pending => CliStatus::Pending,
            Kind::Started => CliStatus::Started,
            Kind::Connected => match (w.id, w.label, w.upstream, w.mcp_url, w.sse_url) {
                (Some(id), Some(label), Some(upstream), Some(mcp_url), Some(sse_url)) => {
                    CliStatus::Connected {
                        id,
                        label,
                        upstream,
                        mcp_url,
                        sse_url,
                    }
                }
                _ => return Err("a connected status without its connection"),
            },
            Kind::Failed => match (w.error, w.message) {
                (Some(error), Some(message)) => CliStatus::Failed { error, message },
                _ => return Err("a failed status without its error"),
            },
        })
    }
}
