//! GS1 identifiers: keys with check digits (GTIN, SSCC, GLN), serials, lots, expiry dates,
//! and parsers for every form a scanner or partner sends them in.
