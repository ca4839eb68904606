//! The admin token as a type: redacted `Debug`, no `Display`, no `PartialEq`, zeroed on drop,
//! and an explicit [`AdminToken::secret`] for the one place that sends it (the
//! `Authorization` header) and the one that stores it (the config file).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// The Worker's `ADMIN_TOKEN`, as the CLI holds it.
pub struct AdminToken(Zeroizing<String>);

impl AdminToken {
    /// A token from user input: surrounding whitespace (a pasted newline) is dropped, and an
    /// empty token is none.
    pub fn new(token: &str) -> Option<Self> {
        let token = token.trim();
        (!token.is_empty()).then(|| AdminToken(Zeroizing::new(token.to_owned())))
    }

    /// The token itself. Only for the `Authorization` header and the config file.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl Clone for AdminToken {
    fn clone(&self) -> Self {
        AdminToken(Zeroizing::new(self.0.as_str().to_owned()))
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl Serialize for AdminToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.secret())
    }
}

impl<'de> Deserialize<'de> for AdminToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        AdminToken::new(&text).ok_or_else(|| serde::de::Error::custom("admin_token is empty"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_input_trimmed() {
        let token = AdminToken::new("  s3cr3t-token-value\n").expect("token");
        assert_eq!(token.secret(), "s3cr3t-token-value");
        let debug = format!("{token:?} {:?}", Some(token.clone()));
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(AdminToken::new(" \n").is_none());
    }

    #[test]
    fn serde_roundtrip_refuses_empty() {
        let token: AdminToken = serde_json::from_str("\"abc\"").expect("parse");
        assert_eq!(serde_json::to_string(&token).expect("json"), "\"abc\"");
        assert!(serde_json::from_str::<AdminToken>("\"  \"").is_err());
    }
}
