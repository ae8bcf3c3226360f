//! `gossip-adversary`: a genesis member gone bad, for the network fault scenarios
//! (`testnet/faults`, scenario `bad_gossip_dropped`).
//!
//! It joins the network as a real libp2p peer with a member key from the genesis file (so it
//! passes the allow list and the noise handshake) and publishes, on the real topics: a
//! transaction over the chain's `max_tx_bytes`, undecodable transactions, a transaction
//! forged in another member's name, undecodable consensus messages, a prevote forged in a
//! validator's name, and a message over the gossip frame limit. It then prints one JSON line saying what it sent (with the forged
//! transactions' hashes, which no node must ever know) and exits. Not part of the product.

use anyhow::{bail, Context, Result};
use clap::Parser;
use custody_consensus::{Height, Round, SignedVote, Signer, Vote, VoteKind};
use custody_ledger::crypto::signing_key_from_pem;
use custody_ledger::encoding;
use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::gs1::{Expiry, Gtin, ItemId, Lot, Serial};
use custody_ledger::hash::Hash32;
use custody_ledger::transaction::{
    Commission, Payload, SetStatus, StatusChange, Transaction, TX_FORMAT_VERSION,
};
use custody_node::consensus_driver::ConsensusMessage;
use custody_node::network::{self, NetworkConfig, Topic};
use custody_node::peering;
use rand::RngCore;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Publishes malformed, forged and oversized gossip (a fault-scenario tool)")]
struct Args {
    /// The network's genesis file.
    #[arg(long)]
    genesis: PathBuf,
    /// A member's PKCS#8 PEM key: the adversary's identity.
    #[arg(long)]
    key: PathBuf,
    /// A node to connect to (multiaddr, e.g. /ip4/127.0.0.1/tcp/7400); repeatable.
    #[arg(long = "peer", required = true)]
    peers: Vec<String>,
    /// The member whose name the forged transactions use.
    #[arg(long, default_value = "manufacturer")]
    impersonate: String,
    /// How many times each kind of bad message is sent (each copy distinct).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Seconds to stay connected after the last message (so it is delivered).
    #[arg(long, default_value_t = 3)]
    linger: u64,
}

/// What the adversary sent, by kind.
#[derive(Default)]
struct Sent {
    garbage_tx: u32,
    forged_tx: Vec<String>,
    garbage_consensus: u32,
    forged_vote: u32,
    oversized_tx: u32,
    over_max_tx_bytes: u32,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let genesis = Genesis::from_json(
        &std::fs::read_to_string(&args.genesis)
            .with_context(|| format!("reading {}", args.genesis.display()))?,
    )
    .context("parsing the genesis file")?;
    let key = signing_key_from_pem(
        &std::fs::read_to_string(&args.key)
            .with_context(|| format!("reading {}", args.key.display()))?,
    )
    .context("reading the key")?;
    if genesis
        .member(&MemberId(args.impersonate.clone()))
        .is_none()
    {
        bail!("no member named {} in the genesis file", args.impersonate);
    }

    let mut config = NetworkConfig::new(key.to_bytes(), peering::allowed_keys(&genesis));
    config.listen_addrs = vec!["/ip4/0.0.0.0/tcp/0".into()];
    config.bootstrap = args.peers.clone();
    config.chain_id = Some(genesis.chain_id.clone());
    // Large enough to send what no honest node accepts.
    config.max_gossip_bytes = 2 * network::DEFAULT_MAX_GOSSIP_BYTES;
    let (client, mut events, event_loop) = network::new(config).context("starting libp2p")?;
    tokio::spawn(event_loop.run());
    tokio::spawn(async move { while events.recv().await.is_some() {} });

    let start = Instant::now();
    loop {
        if !client.connected_peers().await?.is_empty() {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("could not connect to any of {:?}", args.peers);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the peers' subscriptions arrive (publishing waits for them anyway).
    tokio::time::sleep(Duration::from_secs(2)).await;

    let chain = genesis.chain_id.as_str();
    let mut rng = rand::thread_rng();
    let mut sent = Sent::default();
    let own_name = genesis
        .member_by_key(&key.public_key())
        .map(|m| m.name.clone())
        .context("the key is not a genesis member's")?;
    for round in 0..args.rounds {
        // Signed by the adversary in its own name, but over the chain's max_tx_bytes (and
        // within the gossip frame limit, so it reaches the node's checks).
        let big = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: chain.into(),
            signer: own_name.clone(),
            sequence: 1 + u64::from(round),
            event_time_ms: custody_node::node::now_ms(),
            payload: Payload::SetStatus(SetStatus {
                items: vec![ItemId::parse("(01)10614141000019(21)BIG")?],
                status: StatusChange::Quarantine,
                reason: "x".repeat(genesis.params.max_tx_bytes as usize + 1024),
            }),
        }
        .sign(&key);
        client
            .publish(Topic::Transactions, encoding::encode(&big))
            .await?;
        sent.over_max_tx_bytes += 1;

        let mut junk = vec![0u8; 512];
        rng.fill_bytes(&mut junk);
        client.publish(Topic::Transactions, junk.clone()).await?;
        sent.garbage_tx += 1;

        let forged = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: chain.into(),
            signer: MemberId(args.impersonate.clone()),
            sequence: 1 + u64::from(round),
            event_time_ms: custody_node::node::now_ms(),
            payload: Payload::Commission(Commission {
                gtin: Gtin::parse("10614141000019")?,
                lot: Lot::parse("FORGED")?,
                expiry: Expiry::parse("301231")?,
                serials: vec![Serial::parse(&format!("FORGED{}", rng.next_u32()))?],
                location: None,
            }),
        }
        // Signed with the adversary's own key, in the impersonated member's name.
        .sign(&key);
        client
            .publish(Topic::Transactions, encoding::encode(&forged))
            .await?;
        sent.forged_tx.push(forged.hash().to_hex());

        client.publish(Topic::Consensus, junk).await?;
        sent.garbage_consensus += 1;

        let mut value = [0u8; 32];
        rng.fill_bytes(&mut value);
        let vote = Vote {
            height: Height(1),
            round: Round(round),
            kind: VoteKind::Prevote,
            value: Some(Hash32(value)),
            validator: 0,
        };
        let signature = key.sign(&vote.sign_bytes(chain));
        let msg = ConsensusMessage::Vote(SignedVote { vote, signature });
        client
            .publish(Topic::Consensus, msg.encode_for_gossip(u64::from(round)))
            .await?;
        sent.forged_vote += 1;

        let mut huge = vec![0u8; network::DEFAULT_MAX_GOSSIP_BYTES + 64 * 1024];
        rng.fill_bytes(&mut huge);
        client.publish(Topic::Transactions, huge).await?;
        sent.oversized_tx += 1;
    }
    tokio::time::sleep(Duration::from_secs(args.linger)).await;
    let connected = client.connected_peers().await?;
    println!(
        "{}",
        json!({
            "adversary": key.public_key().to_hex(),
            "garbage_tx": sent.garbage_tx,
            "forged_tx": sent.forged_tx,
            "garbage_consensus": sent.garbage_consensus,
            "forged_vote": sent.forged_vote,
            "oversized_tx": sent.oversized_tx,
            "over_max_tx_bytes": sent.over_max_tx_bytes,
            "connected_at_end": connected.len(),
        })
    );
    Ok(())
}
