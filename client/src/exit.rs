//! Exit codes that scripts can rely on, and how an error maps to one.
//!
//! Commands return `anyhow` errors; [`classify`] walks the error chain for the two typed
//! errors that decide a code ([`UsageError`] and [`ApiError`]). Anything else is exit 1.
//! The table in [`EXIT_CODES_HELP`] is shown by `custody --help` and is a contract.

use crate::api_client::ApiError;

/// How `custody` exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command did what was asked.
    Success,
    /// 1: anything not covered below.
    Failure,
    /// 2: bad usage or input (also clap's own usage errors).
    Usage,
    /// 3: the node rejected the transaction.
    Rejected,
    /// 4: the item, shipment or block asked for does not exist.
    NotFound,
    /// 5: the node could not be reached, or answered with an unexpected HTTP error.
    Unreachable,
    /// 6: what was to be verified (a chain of headers, a proof bundle) does not verify.
    VerificationFailed,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Rejected => 3,
            Exit::NotFound => 4,
            Exit::Unreachable => 5,
            Exit::VerificationFailed => 6,
        }
    }

    /// A stable name, used as the error code in `--json` error documents.
    pub fn name(self) -> &'static str {
        match self {
            Exit::Success => "ok",
            Exit::Failure => "error",
            Exit::Usage => "usage",
            Exit::Rejected => "rejected",
            Exit::NotFound => "not_found",
            Exit::Unreachable => "unreachable",
            Exit::VerificationFailed => "verification_failed",
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

/// The exit-code table printed at the end of `custody --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  any other failure (e.g. a transaction still pending when --timeout ran out)
  2  bad usage or input: unknown option, bad GS1 identifier, bad serial range,
     missing or unusable key, a key that is no member's
  3  the node rejected the transaction (ledger rule, signature, sequence, duplicate, ...)
  4  not found: the item, shipment or block does not exist
  5  node unreachable, or an unexpected HTTP error (including a full mempool)
  6  verification failed: the headers or the proof bundle do not prove what they claim";

/// Bad command-line input found after clap's own parsing (a missing key, an unreadable
/// serials file, a transaction that fails its form checks, ...). Exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What was verified does not verify. Exit 6.
#[derive(Debug, thiserror::Error)]
#[error("verification failed: {0}")]
pub struct VerificationError(pub String);

/// Wraps a message as a [`UsageError`] inside an `anyhow::Error`.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// The exit code for an error: the first typed cause in its chain decides.
pub fn classify(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return Exit::Usage;
        }
        if cause.downcast_ref::<VerificationError>().is_some() {
            return Exit::VerificationFailed;
        }
        if let Some(api) = cause.downcast_ref::<ApiError>() {
            return api.exit();
        }
    }
    Exit::Failure
}

/// The stable code to put in a `--json` error document: the node's error code when the
/// node gave one, else the exit code's name.
pub fn error_code(err: &anyhow::Error) -> String {
    for cause in err.chain() {
        if let Some(ApiError::Http { code, .. }) = cause.downcast_ref::<ApiError>() {
            return code.clone();
        }
    }
    classify(err).name().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn usage_error_survives_context() {
        let e = Err::<(), _>(usage("bad range"))
            .context("reading --serials")
            .unwrap_err();
        assert_eq!(classify(&e), Exit::Usage);
        assert_eq!(error_code(&e), "usage");
    }

    #[test]
    fn api_errors_map_through_context() {
        let e = Err::<(), _>(ApiError::Http {
            status: 404,
            code: "not_found".into(),
            message: "no such item".into(),
            submit: false,
        })
        .context("fetching item")
        .unwrap_err();
        assert_eq!(classify(&e), Exit::NotFound);
        assert_eq!(error_code(&e), "not_found");
    }

    #[test]
    fn plain_errors_are_exit_1() {
        assert_eq!(classify(&anyhow::anyhow!("boom")), Exit::Failure);
    }

    #[test]
    fn codes_are_the_documented_ones() {
        let all = [
            (Exit::Success, 0),
            (Exit::Failure, 1),
            (Exit::Usage, 2),
            (Exit::Rejected, 3),
            (Exit::NotFound, 4),
            (Exit::Unreachable, 5),
            (Exit::VerificationFailed, 6),
        ];
        for (e, c) in all {
            assert_eq!(e.code(), c);
            assert!(EXIT_CODES_HELP.contains(&format!("  {c}  ")));
        }
    }
}
