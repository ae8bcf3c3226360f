//! Checks the project's AI table entry by entry against GS1's Barcode Syntax Dictionary
//! (`shared/gs1-syntax/gs1-syntax-dictionary.txt` beside the repository): every AI present,
//! same format, flags, associations, Digital Link role and title, and every linter known.
//! Skipped, with a message, when the file is not there (a fresh clone has no `shared/`).

// A test reads GS1 reference files from ../shared; the crate itself does no IO.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::BTreeSet;

use custody_ledger::gs1::{lookup_ai, AiEntry, Linter, AI_TABLE};

const DICTIONARY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/gs1-syntax/gs1-syntax-dictionary.txt"
);

/// One line of the dictionary, split into its parts.
#[derive(Debug)]
struct Line {
    first: String,
    last: String,
    flags: String,
    spec: Vec<String>,
    attributes: BTreeSet<String>,
    title: String,
}

fn parse_line(line: &str) -> Line {
    let (body, title) = line.split_once('#').unwrap_or((line, ""));
    let mut tokens = body.split_whitespace();
    let ais = tokens.next().expect("a dictionary line starts with its AI");
    let (first, last) = ais.split_once('-').unwrap_or((ais, ais));
    let mut flags = String::new();
    let mut spec = Vec::new();
    let mut attributes = BTreeSet::new();
    for token in tokens {
        if spec.is_empty() && !token.starts_with('[') && !token.chars().any(char::is_alphanumeric) {
            flags.push_str(token);
        } else if token.contains('=') || token == "dlpkey" {
            attributes.insert(token.to_string());
        } else {
            spec.push(token.to_string());
        }
    }
    Line {
        first: first.to_string(),
        last: last.to_string(),
        flags,
        spec,
        attributes,
        title: title.trim().to_string(),
    }
}

/// The entry's attributes written as the dictionary writes them.
fn attributes_of(entry: &AiEntry) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if !entry.requires.is_empty() {
        let groups: Vec<String> = entry.requires.iter().map(|g| g.join("+")).collect();
        out.insert(format!("req={}", groups.join(",")));
    }
    if !entry.excludes.is_empty() {
        out.insert(format!("ex={}", entry.excludes.join(",")));
    }
    match entry.dl_key {
        Some([]) => {
            out.insert("dlpkey".to_string());
        }
        Some(sequences) => {
            let seqs: Vec<String> = sequences.iter().map(|s| s.join(",")).collect();
            out.insert(format!("dlpkey={}", seqs.join("|")));
        }
        None => {}
    }
    out
}

#[test]
fn ai_table_matches_the_gs1_syntax_dictionary() {
    let Ok(text) = std::fs::read_to_string(DICTIONARY) else {
        println!("skipped: GS1 syntax dictionary {DICTIONARY} not found");
        return;
    };
    let lines: Vec<Line> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(parse_line)
        .collect();
    assert!(lines.len() > 200, "only {} AI lines read", lines.len());

    let mut problems = Vec::new();
    for line in &lines {
        let Some(entry) = AI_TABLE
            .iter()
            .find(|e| e.first == line.first && e.last == line.last)
        else {
            problems.push(format!(
                "{}-{}: missing from AI_TABLE",
                line.first, line.last
            ));
            continue;
        };
        let ai = &line.first;
        if entry.predefined_length != line.flags.contains('*') {
            problems.push(format!(
                "{ai}: predefined-length flag differs ({})",
                line.flags
            ));
        }
        if entry.dl_attribute != line.flags.contains('?') {
            problems.push(format!(
                "{ai}: Digital Link attribute flag differs ({})",
                line.flags
            ));
        }
        if entry.spec_text() != line.spec.join(" ") {
            problems.push(format!(
                "{ai}: format {} but dictionary says {}",
                entry.spec_text(),
                line.spec.join(" ")
            ));
        }
        if attributes_of(entry) != line.attributes {
            problems.push(format!(
                "{ai}: attributes {:?} but dictionary says {:?}",
                attributes_of(entry),
                line.attributes
            ));
        }
        if entry.title != line.title {
            problems.push(format!(
                "{ai}: title {:?} but dictionary says {:?}",
                entry.title, line.title
            ));
        }
        for token in &line.spec {
            for linter in token.split(',').skip(1) {
                if Linter::from_name(linter).is_none() {
                    problems.push(format!("{ai}: linter {linter} is not implemented"));
                }
            }
        }
        // Every AI of the range resolves to this entry.
        if let (Ok(lo), Ok(hi)) = (line.first.parse::<u32>(), line.last.parse::<u32>()) {
            for n in lo..=hi {
                let ai = format!("{n:0width$}", width = line.first.len());
                if lookup_ai(&ai).map(|e| e.first) != Some(entry.first) {
                    problems.push(format!("{ai}: lookup does not find its entry"));
                }
            }
        }
    }
    for entry in AI_TABLE {
        if !lines
            .iter()
            .any(|l| l.first == entry.first && l.last == entry.last)
        {
            problems.push(format!(
                "{}-{}: in AI_TABLE but not in the dictionary",
                entry.first, entry.last
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    println!("{} dictionary entries match AI_TABLE", lines.len());
}
