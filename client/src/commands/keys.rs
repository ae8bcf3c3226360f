//! `custody keys generate` and `custody keys show`: ed25519 keys in PKCS#8 PEM files.
//! Only public keys are ever printed.

use super::submit::load_key;
use super::Ctx;
use crate::cli::KeysCommand;
use crate::exit::{usage, Exit};
use crate::output;
use anyhow::Context;
use custody_ledger::crypto;
use ed25519_dalek::SigningKey;
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Runs a `keys` subcommand.
pub fn run(ctx: &Ctx, cmd: KeysCommand) -> anyhow::Result<Exit> {
    match cmd {
        KeysCommand::Generate { out, force } => generate(ctx, &out, force),
        KeysCommand::Show => show(ctx),
    }
}

fn generate(ctx: &Ctx, path: &Path, force: bool) -> anyhow::Result<Exit> {
    if path.exists() && !force {
        return Err(usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = crypto::signing_key_to_pem(&key);
    write_private(path, pem.as_bytes(), force)
        .with_context(|| format!("writing the key to {}", path.display()))?;
    let public = crypto::public_key(&key).to_hex();
    if ctx.json {
        output::print_json(&json!({"public_key": public, "file": path.display().to_string()}));
    } else {
        eprintln!("wrote a new ed25519 key to {}", path.display());
        output::emit(&public);
    }
    Ok(Exit::Success)
}

/// Writes a file only its owner can read (on Unix), refusing to replace an existing one
/// unless `overwrite`.
fn write_private(path: &Path, bytes: &[u8], overwrite: bool) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            usage(format!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            ))
        } else {
            anyhow::Error::new(e)
        }
    })?;
    #[cfg(unix)]
    {
        // An overwritten file keeps its old mode: tighten it.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn show(ctx: &Ctx) -> anyhow::Result<Exit> {
    let key = load_key(ctx)?;
    let public = crypto::public_key(&key).to_hex();
    if ctx.json {
        output::print_json(&json!({"public_key": public}));
    } else {
        output::emit(&public);
    }
    Ok(Exit::Success)
}
