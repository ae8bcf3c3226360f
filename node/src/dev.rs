//! `custody-node dev`: a complete demo chain with no configuration. The first run writes a
//! genesis with four demo members (manufacturer, distributor, pharmacy, regulator) and a
//! validator, and their PKCS#8 PEM keys, into the data folder; later runs reuse them.

use anyhow::{Context, Result};
use custody_consensus::Validator;
use custody_ledger::crypto::{public_key, signing_key_from_pem, signing_key_to_pem};
use custody_ledger::genesis::{ChainParams, Genesis, Member, MemberId, Role};
use custody_ledger::gs1::Gln;
use ed25519_dalek::SigningKey;
use std::fs;
use std::path::{Path, PathBuf};

/// A demo member: name, roles, GS1 company prefixes, GLNs.
type DemoMember = (
    &'static str,
    &'static [Role],
    &'static [&'static str],
    &'static [&'static str],
);

/// The demo members.
const DEMO_MEMBERS: &[DemoMember] = &[
    (
        "manufacturer",
        &[Role::Manufacturer],
        &["0614141"],
        &["0614141000005", "0614141000012"],
    ),
    (
        "distributor",
        &[Role::Distributor, Role::Logistics],
        &["0614142"],
        &["0614142000004", "0614142000011"],
    ),
    (
        "pharmacy",
        &[Role::Dispenser],
        &["0614143"],
        &["0614143000003"],
    ),
    ("regulator", &[Role::Regulator], &[], &[]),
];

/// Names of the dev validators (3f + 1 with f = 1).
pub const DEV_VALIDATORS: &[&str] = &["validator-0", "validator-1", "validator-2", "validator-3"];

/// Where the key of `name` lives in a dev data folder.
pub fn key_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("keys").join(format!("{name}.pem"))
}

fn load_or_create_key(data_dir: &Path, name: &str) -> Result<SigningKey> {
    let path = key_path(data_dir, name);
    if path.exists() {
        let pem =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return signing_key_from_pem(&pem).with_context(|| format!("key {}", path.display()));
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    write_private(&path, &signing_key_to_pem(&key))?;
    Ok(key)
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Loads the dev genesis from `data_dir`, or creates it (with keys) on first run.
pub fn load_or_create(data_dir: &Path) -> Result<Genesis> {
    let path = data_dir.join("genesis.json");
    if path.exists() {
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return Genesis::from_json(&text).with_context(|| format!("genesis {}", path.display()));
    }
    create(data_dir, DEV_VALIDATORS.len(), "custody-dev")
}

/// Writes a new genesis with `validators` validators (`validator-0`, …) and the demo
/// members, and every key, into `data_dir` (which must not hold a genesis yet).
pub fn create(data_dir: &Path, validators: usize, chain_id: &str) -> Result<Genesis> {
    let path = data_dir.join("genesis.json");
    if path.exists() {
        anyhow::bail!("{} already exists", path.display());
    }
    if validators == 0 || validators > 100 {
        anyhow::bail!("between 1 and 100 validators, not {validators}");
    }
    let mut members = Vec::new();
    for (name, roles, prefixes, glns) in DEMO_MEMBERS {
        let key = load_or_create_key(data_dir, name)?;
        members.push(Member {
            name: MemberId::from(*name),
            public_key: public_key(&key),
            roles: roles.to_vec(),
            company_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
            glns: glns
                .iter()
                .map(|g| Gln::parse(g).context("demo GLN"))
                .collect::<Result<_>>()?,
        });
    }
    let validators = (0..validators)
        .map(|i| {
            let name = format!("validator-{i}");
            let key = load_or_create_key(data_dir, &name)?;
            Ok(Validator {
                name,
                public_key: public_key(&key),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let genesis = Genesis {
        chain_id: chain_id.into(),
        genesis_time_ms: crate::node::now_ms(),
        validators,
        members,
        params: ChainParams::default(),
    };
    genesis.validate().context("demo genesis")?;
    fs::write(&path, genesis.to_json()).with_context(|| format!("writing {}", path.display()))?;
    Ok(genesis)
}

/// Reads a validator's key from the dev folder.
pub fn validator_key(data_dir: &Path, name: &str) -> Result<SigningKey> {
    let path = key_path(data_dir, name);
    let pem = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    signing_key_from_pem(&pem).with_context(|| format!("key {}", path.display()))
}

/// What to tell the user once the dev chain is up: `apis` are the validators' API URLs.
pub fn banner(data_dir: &Path, apis: &[String]) -> String {
    let api = apis.first().map_or("http://127.0.0.1:8080", String::as_str);
    let k = |m: &str| key_path(data_dir, m).display().to_string();
    let (m, d) = (k("manufacturer"), k("distributor"));
    let unit = "'(01)10614141000019(21)1'";
    [
        String::new(),
        "Custody dev chain is running.".into(),
        String::new(),
        format!("  dashboard   {api}/"),
        format!(
            "  validators  {}",
            apis.iter()
                .enumerate()
                .map(|(i, a)| format!("validator-{i} {a}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!("  genesis     {}", data_dir.join("genesis.json").display()),
        format!("  keys        {}", data_dir.join("keys").display()),
        String::new(),
        "Drive it with the CLI (build it with `cargo build --release -p custody-client`;".into(),
        "it is target/release/custody):".into(),
        String::new(),
        format!("  export CUSTODY_NODE={api}"),
        format!("  custody --key {m} commission --gtin 10614141000019 --lot L1 --expiry 281231 --serials 1..100"),
        format!("  custody --key {m} pack --sscc 106141410000000019 {unit} '(01)10614141000019(21)2'"),
        format!("  custody --key {m} ship --to distributor --shipment ASN-1 106141410000000019"),
        format!("  custody --key {d} receive --shipment ASN-1"),
        format!("  custody show {unit}"),
        format!("  custody history {unit}"),
        String::new(),
        "Press Ctrl-C to stop; the data folder keeps the chain for the next run.".into(),
    ]
    .join("\n")
}
