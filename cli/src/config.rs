//! Where the CLI finds its Worker and admin token: flags, then environment variables, then the
//! config file `<config dir>/bindify/config.json` that `bindify login` writes (mode 0600 in a
//! 0700 directory). `BINDIFY_CONFIG_DIR` replaces `<config dir>/bindify`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CliError, Result};
use bindify_core::admin::AdminToken;

pub const ENV_WORKER_URL: &str = "BINDIFY_WORKER_URL";
pub const ENV_ADMIN_TOKEN: &str = "BINDIFY_ADMIN_TOKEN";
pub const ENV_CONFIG_DIR: &str = "BINDIFY_CONFIG_DIR";
pub const ENV_NO_BROWSER: &str = "BINDIFY_NO_BROWSER";
const FILE_NAME: &str = "config.json";

/// The config file's contents. `Debug` shows no token (see [`AdminToken`]).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<AdminToken>,
}

/// Where a setting came from, for messages such as "the admin token from BINDIFY_ADMIN_TOKEN
/// is wrong".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    File,
}

impl Source {
    pub fn describe(self, flag: &str, env: &str) -> String {
        match self {
            Source::Flag => format!("--{flag}"),
            Source::Env => env.to_owned(),
            Source::File => "the config file".to_owned(),
        }
    }
}

/// Every place a setting may come from, already read.
#[derive(Debug, Default)]
pub struct Sources {
    pub flag_worker: Option<String>,
    pub flag_token: Option<AdminToken>,
    pub env_worker: Option<String>,
    pub env_token: Option<AdminToken>,
    pub file: Option<ConfigFile>,
}

impl Sources {
    /// Reads the environment through `env` (the process environment outside tests).
    pub fn from_env(
        flag_worker: Option<String>,
        flag_token: Option<AdminToken>,
        env: &dyn Fn(&str) -> Option<String>,
        file: Option<ConfigFile>,
    ) -> Self {
        Sources {
            flag_worker: flag_worker.filter(|w| !w.trim().is_empty()),
            flag_token,
            env_worker: env(ENV_WORKER_URL).filter(|w| !w.trim().is_empty()),
            env_token: env(ENV_ADMIN_TOKEN).and_then(|t| AdminToken::parse(&t)),
            file,
        }
    }

    /// The Worker URL by precedence flag > env > file, and where it came from.
    pub fn worker(&self) -> Option<(String, Source)> {
        let file = self.file.as_ref().and_then(|f| f.worker_url.clone());
        first([
            (self.flag_worker.clone(), Source::Flag),
            (self.env_worker.clone(), Source::Env),
            (file, Source::File),
        ])
    }

    /// The admin token by precedence flag > env > file, and where it came from.
    pub fn token(&self) -> Option<(AdminToken, Source)> {
        let file = self.file.as_ref().and_then(|f| f.admin_token.clone());
        first([
            (self.flag_token.clone(), Source::Flag),
            (self.env_token.clone(), Source::Env),
            (file, Source::File),
        ])
    }
}

fn first<T, const N: usize>(candidates: [(Option<T>, Source); N]) -> Option<(T, Source)> {
    candidates
        .into_iter()
        .find_map(|(value, source)| value.map(|v| (v, source)))
}

/// The directory holding config.json: `BINDIFY_CONFIG_DIR`, else the platform's config
/// directory (`~/.config` on Linux) plus `bindify`.
pub fn config_dir(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    if let Some(dir) = env(ENV_CONFIG_DIR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::config_dir()
        .map(|d| d.join("bindify"))
        .ok_or_else(|| {
            CliError::Local(format!(
                "cannot tell where your config directory is: set {ENV_CONFIG_DIR}, or pass \
             --worker and --token"
            ))
        })
}

pub fn config_path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// The config file, if there is one. A file others may read gets a warning in `warnings`.
pub fn load(dir: &Path, warnings: &mut Vec<String>) -> Result<Option<ConfigFile>> {
    let path = config_path(dir);
    let text = match fs::read_to_string(&path) {
        Ok(text) => zeroize::Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CliError::Local(format!(
                "cannot read {}: {e}. Fix its permissions or delete it and run `bindify login`",
                path.display()
            )));
        }
    };
    if let Some(mode) = group_or_other_access(&path) {
        warnings.push(format!(
            "{} holds your admin token but has mode {mode:o}: run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    serde_json::from_str(&text).map(Some).map_err(|e| {
        CliError::Local(format!(
            "{} is not valid ({e}): fix it, or delete it and run `bindify login`",
            path.display()
        ))
    })
}

#[cfg(unix)]
fn group_or_other_access(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn group_or_other_access(_path: &Path) -> Option<u32> {
    None
}

/// Writes the config file atomically: a new file created with mode 0600 (in a directory
/// created with mode 0700), renamed over the old one, and its mode checked afterwards.
pub fn save(dir: &Path, config: &ConfigFile) -> Result<PathBuf> {
    let path = config_path(dir);
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        CliError::Local(format!(
            "cannot {what} {}: {e}. Set {ENV_CONFIG_DIR} to a directory you can write to",
            path.display()
        ))
    };
    create_private_dir(dir).map_err(|e| fail("create the directory of", &e))?;
    let json = zeroize::Zeroizing::new(
        serde_json::to_string_pretty(config).map_err(|e| fail("serialize", &e))? + "\n",
    );
    let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
    let written = write_private(&tmp, json.as_bytes()).and_then(|()| fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail("write", &e));
    }
    verify_private(&path)?;
    Ok(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // A leftover from a crash may have other permissions: start from a fresh file.
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn verify_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| CliError::Local(format!("cannot check {}: {e}", path.display())))?
        .permissions()
        .mode()
        & 0o777;
    if mode != 0o600 {
        return Err(CliError::Local(format!(
            "{} was written with mode {mode:o} instead of 600: run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn verify_private(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests;
