//! The project's table of GS1 Application Identifiers: for every AI its format, FNC1 need,
//! Digital Link role (key with qualifier sequences, or query attribute), mandatory and
//! excluded associations and title. Checked entry by entry against GS1's Barcode Syntax
//! Dictionary by `tests/gs1_dictionary.rs`.

use super::ai_entry::AiEntry;
use super::component::{n, x, y, z};
use super::linter::Linter::*;

const fn ai(first: &'static str, last: &'static str, title: &'static str) -> AiEntry {
    AiEntry::new(first, last, title)
}

/// Every AI the project knows, in lexical order of the AI.
pub static AI_TABLE: &[AiEntry] = &[
    ai("00", "00", "SSCC")
        .predefined()
        .dl_attr()
        .spec(&[n(18, 18).lint(&[Csum, GcpPos2])])
        .dl_key(&[]),
    ai("01", "01", "GTIN")
        .predefined()
        .dl_attr()
        .spec(&[n(14, 14).lint(&[Csum, GcpPos2])])
        .ex(&["255", "37"])
        .dl_key(&[&["22", "10", "21"], &["235"]]),
    ai("02", "02", "CONTENT")
        .predefined()
        .dl_attr()
        .spec(&[n(14, 14).lint(&[Csum, GcpPos2])])
        .ex(&["01", "03"])
        .req(&[&["37"]]),
    ai("03", "03", "MTO GTIN")
        .predefined()
        .spec(&[n(14, 14).lint(&[Csum, GcpPos2])])
        .ex(&["01", "02", "37", "235"]),
    ai("10", "10", "BATCH/LOT")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]]),
    ai("11", "11", "PROD DATE")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmd0])])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]]),
    ai("12", "12", "DUE DATE")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmd0])])
        .req(&[&["8020"]]),
    ai("13", "13", "PACK DATE")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmd0])])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]]),
    ai("15", "15", "BEST BEFORE or BEST BY")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmd0])])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]]),
    ai("16", "16", "SELL BY")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmd0])])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]]),
    ai("17", "17", "USE BY or EXPIRY")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmd0])])
        .req(&[&["01"], &["02"], &["03"], &["255"], &["8006"], &["8026"]]),
    ai("20", "20", "VARIANT")
        .predefined()
        .dl_attr()
        .spec(&[n(2, 2)])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]]),
    ai("21", "21", "SERIAL")
        .spec(&[x(1, 20)])
        .req(&[&["01"], &["03"], &["8006"]])
        .ex(&["235"]),
    ai("22", "22", "CPV").spec(&[x(1, 20)]).req(&[&["01"]]),
    ai("235", "235", "TPX").spec(&[x(1, 28)]).req(&[&["01"]]),
    ai("240", "240", "ADDITIONAL ID")
        .dl_attr()
        .spec(&[x(1, 30)])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]]),
    ai("241", "241", "CUST. PART No.")
        .dl_attr()
        .spec(&[x(1, 30)])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]]),
    ai("242", "242", "MTO VARIANT")
        .dl_attr()
        .spec(&[n(1, 6)])
        .req(&[&["01"], &["02"], &["8006"], &["8026"]]),
    ai("243", "243", "PCN")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"], &["03"]]),
    ai("250", "250", "SECONDARY SERIAL")
        .dl_attr()
        .spec(&[x(1, 30)])
        .req(&[&["01", "21"], &["03", "21"], &["8006", "21"]]),
    ai("251", "251", "REF. TO SOURCE")
        .dl_attr()
        .spec(&[x(1, 30)])
        .req(&[&["01"], &["03"], &["8006"]]),
    ai("253", "253", "GDTI")
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1]), x(1, 17).opt()])
        .dl_key(&[]),
    ai("254", "254", "GLN EXTENSION COMPONENT")
        .spec(&[x(1, 20)])
        .req(&[&["414"]]),
    ai("255", "255", "GCN")
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1]), n(1, 12).opt()])
        .dl_key(&[])
        .ex(&["01", "02", "415", "8006", "8020", "8026"]),
    ai("30", "30", "VAR. COUNT")
        .dl_attr()
        .spec(&[n(1, 8)])
        .req(&[&["01"], &["02"]]),
    ai("3100", "3105", "NET WEIGHT (kg)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["310n"]),
    ai("3110", "3115", "LENGTH (m)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["311n"]),
    ai("3120", "3125", "WIDTH (m)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["312n"]),
    ai("3130", "3135", "HEIGHT (m)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["313n"]),
    ai("3140", "3145", "AREA (m²)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["314n"]),
    ai("3150", "3155", "NET VOLUME (l)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["315n"]),
    ai("3160", "3165", "NET VOLUME (m³)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["316n"]),
    ai("3200", "3205", "NET WEIGHT (lb)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["320n"]),
    ai("3210", "3215", "LENGTH (in)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["321n"]),
    ai("3220", "3225", "LENGTH (ft)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["322n"]),
    ai("3230", "3235", "LENGTH (yd)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["323n"]),
    ai("3240", "3245", "WIDTH (in)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["324n"]),
    ai("3250", "3255", "WIDTH (ft)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["325n"]),
    ai("3260", "3265", "WIDTH (yd)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["326n"]),
    ai("3270", "3275", "HEIGHT (in)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["327n"]),
    ai("3280", "3285", "HEIGHT (ft)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["328n"]),
    ai("3290", "3295", "HEIGHT (yd)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["329n"]),
    ai("3300", "3305", "GROSS WEIGHT (kg)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["330n"]),
    ai("3310", "3315", "LENGTH (m), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["331n"]),
    ai("3320", "3325", "WIDTH (m), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["332n"]),
    ai("3330", "3335", "HEIGHT (m), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["333n"]),
    ai("3340", "3345", "AREA (m²), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["334n"]),
    ai("3350", "3355", "VOLUME (l), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["335n"]),
    ai("3360", "3365", "VOLUME (m³), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["336n"]),
    ai("3370", "3375", "KG PER m²")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"]])
        .ex(&["337n"]),
    ai("3400", "3405", "GROSS WEIGHT (lb)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["340n"]),
    ai("3410", "3415", "LENGTH (in), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["341n"]),
    ai("3420", "3425", "LENGTH (ft), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["342n"]),
    ai("3430", "3435", "LENGTH (yd), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["343n"]),
    ai("3440", "3445", "WIDTH (in), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["344n"]),
    ai("3450", "3455", "WIDTH (ft), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["345n"]),
    ai("3460", "3465", "WIDTH (yd), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["346n"]),
    ai("3470", "3475", "HEIGHT (in), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["347n"]),
    ai("3480", "3485", "HEIGHT (ft), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["348n"]),
    ai("3490", "3495", "HEIGHT (yd), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["349n"]),
    ai("3500", "3505", "AREA (in²)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["350n"]),
    ai("3510", "3515", "AREA (ft²)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["351n"]),
    ai("3520", "3525", "AREA (yd²)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["352n"]),
    ai("3530", "3535", "AREA (in²), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["353n"]),
    ai("3540", "3545", "AREA (ft²), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["354n"]),
    ai("3550", "3555", "AREA (yd²), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["355n"]),
    ai("3560", "3565", "NET WEIGHT (tr oz)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["356n"]),
    ai("3570", "3575", "NET VOLUME (oz)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["357n"]),
    ai("3600", "3605", "NET VOLUME (qt (US))")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["360n"]),
    ai("3610", "3615", "NET VOLUME (gal.)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["361n"]),
    ai("3620", "3625", "VOLUME (qt (US)), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["362n"]),
    ai("3630", "3635", "VOLUME (gal (US)), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["363n"]),
    ai("3640", "3645", "NET VOLUME (in³)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["364n"]),
    ai("3650", "3655", "NET VOLUME (ft³)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["365n"]),
    ai("3660", "3665", "NET VOLUME (yd³)")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]])
        .ex(&["366n"]),
    ai("3670", "3675", "VOLUME (in³), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["367n"]),
    ai("3680", "3685", "VOLUME (ft³), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["368n"]),
    ai("3690", "3695", "VOLUME (yd³), log")
        .predefined()
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["00"], &["01"]])
        .ex(&["369n"]),
    ai("37", "37", "COUNT")
        .dl_attr()
        .spec(&[n(1, 8)])
        .req(&[&["00", "02"], &["00", "8026"]]),
    ai("3900", "3909", "AMOUNT")
        .dl_attr()
        .spec(&[n(1, 15)])
        .req(&[&["255"], &["8020"]])
        .ex(&["390n", "391n", "394n", "8111"]),
    ai("3910", "3919", "AMOUNT")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso4217]), n(1, 15)])
        .req(&[&["8020"]])
        .ex(&["391n"]),
    ai("3920", "3929", "PRICE")
        .dl_attr()
        .spec(&[n(1, 15)])
        .req(&[
            &["01", "30"],
            &["01", "31nn"],
            &["01", "32nn"],
            &["01", "35nn"],
            &["01", "36nn"],
        ])
        .ex(&["392n", "393n"]),
    ai("3930", "3939", "PRICE")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso4217]), n(1, 15)])
        .req(&[&["30"], &["31nn"], &["32nn"], &["35nn"], &["36nn"]])
        .ex(&["393n"]),
    ai("3940", "3943", "PRCNT OFF")
        .dl_attr()
        .spec(&[n(4, 4)])
        .req(&[&["255"]])
        .ex(&["394n", "8111"]),
    ai("3950", "3955", "PRICE/UoM")
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["30"], &["31nn"], &["32nn"], &["35nn"], &["36nn"]])
        .ex(&["392n", "393n", "395n", "8005"]),
    ai("400", "400", "ORDER NUMBER").dl_attr().spec(&[x(1, 30)]),
    ai("401", "401", "GINC")
        .dl_attr()
        .spec(&[x(1, 30).lint(&[GcpPos1])])
        .dl_key(&[]),
    ai("402", "402", "GSIN")
        .dl_attr()
        .spec(&[n(17, 17).lint(&[Csum, GcpPos1])])
        .dl_key(&[]),
    ai("403", "403", "ROUTE")
        .dl_attr()
        .spec(&[x(1, 30)])
        .req(&[&["00"]]),
    ai("410", "410", "SHIP TO LOC")
        .predefined()
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1])]),
    ai("411", "411", "BILL TO")
        .predefined()
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1])]),
    ai("412", "412", "PURCHASE FROM")
        .predefined()
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1])]),
    ai("413", "413", "SHIP FOR LOC")
        .predefined()
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1])]),
    ai("414", "414", "LOC No.")
        .predefined()
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1])])
        .dl_key(&[&["254"], &["7040"]]),
    ai("415", "415", "PAY TO")
        .predefined()
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1])])
        .req(&[&["8020"]])
        .dl_key(&[&["8020"]]),
    ai("416", "416", "PROD/SERV LOC")
        .predefined()
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1])]),
    ai("417", "417", "PARTY")
        .predefined()
        .dl_attr()
        .spec(&[n(13, 13).lint(&[Csum, GcpPos1])])
        .dl_key(&[&["7040"]]),
    ai("420", "420", "SHIP TO POST")
        .dl_attr()
        .spec(&[x(1, 20)])
        .ex(&["421"]),
    ai("421", "421", "SHIP TO POST")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166]), x(1, 9)])
        .ex(&["4307"]),
    ai("422", "422", "ORIGIN")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166])])
        .req(&[&["01"], &["02"], &["03"], &["8006"], &["8026"]])
        .ex(&["426"]),
    ai("423", "423", "COUNTRY - INITIAL PROCESS")
        .dl_attr()
        .spec(&[
            n(3, 3).lint(&[Iso3166]),
            n(3, 3).opt().lint(&[Iso3166]),
            n(3, 3).opt().lint(&[Iso3166]),
            n(3, 3).opt().lint(&[Iso3166]),
            n(3, 3).opt().lint(&[Iso3166]),
        ])
        .req(&[&["01"], &["02"], &["03"]])
        .ex(&["426"]),
    ai("424", "424", "COUNTRY - PROCESS")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166])])
        .req(&[&["01"], &["02"], &["03"]])
        .ex(&["426"]),
    ai("425", "425", "COUNTRY - DISASSEMBLY")
        .dl_attr()
        .spec(&[
            n(3, 3).lint(&[Iso3166]),
            n(3, 3).opt().lint(&[Iso3166]),
            n(3, 3).opt().lint(&[Iso3166]),
            n(3, 3).opt().lint(&[Iso3166]),
            n(3, 3).opt().lint(&[Iso3166]),
        ])
        .req(&[&["01"], &["02"], &["03"]])
        .ex(&["426"]),
    ai("426", "426", "COUNTRY - FULL PROCESS")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166])])
        .req(&[&["01"], &["02"], &["03"]]),
    ai("427", "427", "ORIGIN SUBDIVISION")
        .dl_attr()
        .spec(&[x(1, 3)])
        .req(&[&["01", "422"], &["02", "422"], &["03", "422"]]),
    ai("4300", "4300", "SHIP TO COMP")
        .dl_attr()
        .spec(&[x(1, 35).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4301", "4301", "SHIP TO NAME")
        .dl_attr()
        .spec(&[x(1, 35).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4302", "4302", "SHIP TO ADD1")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4303", "4303", "SHIP TO ADD2")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["4302"]]),
    ai("4304", "4304", "SHIP TO SUB")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4305", "4305", "SHIP TO LOC")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4306", "4306", "SHIP TO REG")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4307", "4307", "SHIP TO COUNTRY")
        .dl_attr()
        .spec(&[x(2, 2).lint(&[Iso3166Alpha2])])
        .req(&[&["00"]]),
    ai("4308", "4308", "SHIP TO PHONE")
        .dl_attr()
        .spec(&[x(1, 30)])
        .req(&[&["00"]]),
    ai("4309", "4309", "SHIP TO GEO")
        .dl_attr()
        .spec(&[n(10, 10).lint(&[Latitude]), n(10, 10).lint(&[Longitude])])
        .req(&[&["00"]]),
    ai("4310", "4310", "RTN TO COMP")
        .dl_attr()
        .spec(&[x(1, 35).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4311", "4311", "RTN TO NAME")
        .dl_attr()
        .spec(&[x(1, 35).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4312", "4312", "RTN TO ADD1")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4313", "4313", "RTN TO ADD2")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["4312"]]),
    ai("4314", "4314", "RTN TO SUB")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4315", "4315", "RTN TO LOC")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4316", "4316", "RTN TO REG")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4317", "4317", "RTN TO COUNTRY")
        .dl_attr()
        .spec(&[x(2, 2).lint(&[Iso3166Alpha2])])
        .req(&[&["00"]]),
    ai("4318", "4318", "RTN TO POST")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["00"]]),
    ai("4319", "4319", "RTN TO PHONE")
        .dl_attr()
        .spec(&[x(1, 30)])
        .req(&[&["00"]]),
    ai("4320", "4320", "SRV DESCRIPTION")
        .dl_attr()
        .spec(&[x(1, 35).lint(&[PcEnc])])
        .req(&[&["00"]]),
    ai("4321", "4321", "DANGEROUS GOODS")
        .dl_attr()
        .spec(&[n(1, 1).lint(&[YesNo])])
        .req(&[&["00"]]),
    ai("4322", "4322", "AUTH TO LEAVE")
        .dl_attr()
        .spec(&[n(1, 1).lint(&[YesNo])])
        .req(&[&["00"]]),
    ai("4323", "4323", "SIG REQUIRED")
        .dl_attr()
        .spec(&[n(1, 1).lint(&[YesNo])])
        .req(&[&["00"]]),
    ai("4324", "4324", "NOT BEF DEL DT")
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmd0]), n(4, 4).lint(&[Hhmi])])
        .req(&[&["00"]]),
    ai("4325", "4325", "NOT AFT DEL DT")
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmd0]), n(4, 4).lint(&[Hhmi])])
        .req(&[&["00"]]),
    ai("4326", "4326", "REL DATE")
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmdd])])
        .req(&[&["00"]]),
    ai("4330", "4330", "MAX TEMP F.")
        .dl_attr()
        .spec(&[n(6, 6), x(1, 1).opt().lint(&[Hyphen])])
        .req(&[&["00"]])
        .ex(&["4331"]),
    ai("4331", "4331", "MAX TEMP C.")
        .dl_attr()
        .spec(&[n(6, 6), x(1, 1).opt().lint(&[Hyphen])])
        .req(&[&["00"]])
        .ex(&["4330"]),
    ai("4332", "4332", "MIN TEMP F.")
        .dl_attr()
        .spec(&[n(6, 6), x(1, 1).opt().lint(&[Hyphen])])
        .req(&[&["00"]])
        .ex(&["4333"]),
    ai("4333", "4333", "MIN TEMP C.")
        .dl_attr()
        .spec(&[n(6, 6), x(1, 1).opt().lint(&[Hyphen])])
        .req(&[&["00"]])
        .ex(&["4332"]),
    ai("7001", "7001", "NSN")
        .dl_attr()
        .spec(&[n(13, 13)])
        .req(&[&["01"], &["02"], &["8006"], &["8026"]]),
    ai("7002", "7002", "MEAT CUT")
        .dl_attr()
        .spec(&[x(1, 30)])
        .req(&[&["01"], &["02"]]),
    ai("7003", "7003", "EXPIRY TIME")
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmdd]), n(4, 4).lint(&[Hhmi])])
        .req(&[&["01"], &["02"], &["03"]]),
    ai("7004", "7004", "ACTIVE POTENCY")
        .dl_attr()
        .spec(&[n(1, 4)])
        .req(&[&["01", "10"], &["03", "10"]]),
    ai("7005", "7005", "CATCH AREA")
        .dl_attr()
        .spec(&[x(1, 12)])
        .req(&[&["01"], &["02"]]),
    ai("7006", "7006", "FIRST FREEZE DATE")
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmdd])])
        .req(&[&["01"], &["02"]]),
    ai("7007", "7007", "HARVEST DATE")
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmdd]), n(6, 6).opt().lint(&[Yymmdd])])
        .req(&[&["01"], &["02"]]),
    ai("7008", "7008", "AQUATIC SPECIES")
        .dl_attr()
        .spec(&[x(1, 3)])
        .req(&[&["01"], &["02"]]),
    ai("7009", "7009", "FISHING GEAR TYPE")
        .dl_attr()
        .spec(&[x(1, 10)])
        .req(&[&["01"], &["02"]]),
    ai("7010", "7010", "PROD METHOD")
        .dl_attr()
        .spec(&[x(1, 2)])
        .req(&[&["01"], &["02"], &["03"]]),
    ai("7011", "7011", "TEST BY DATE")
        .dl_attr()
        .spec(&[n(6, 6).lint(&[Yymmdd]), n(4, 4).opt().lint(&[Hhmi])])
        .req(&[&["01"], &["02"], &["03"]]),
    ai("7020", "7020", "REFURB LOT")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01", "416"], &["03", "416"], &["8006", "416"]]),
    ai("7021", "7021", "FUNC STAT")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"], &["03"], &["8006"]]),
    ai("7022", "7022", "REV STAT")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01", "7021"], &["03", "7021"], &["8006", "7021"]]),
    ai("7023", "7023", "GIAI - ASSEMBLY")
        .dl_attr()
        .spec(&[x(1, 30).lint(&[GcpPos1])]),
    ai("7030", "7030", "PROCESSOR # 0")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7031", "7031", "PROCESSOR # 1")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7032", "7032", "PROCESSOR # 2")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7033", "7033", "PROCESSOR # 3")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7034", "7034", "PROCESSOR # 4")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7035", "7035", "PROCESSOR # 5")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7036", "7036", "PROCESSOR # 6")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7037", "7037", "PROCESSOR # 7")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7038", "7038", "PROCESSOR # 8")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7039", "7039", "PROCESSOR # 9")
        .dl_attr()
        .spec(&[n(3, 3).lint(&[Iso3166999]), x(1, 27)])
        .req(&[&["01"], &["02"]]),
    ai("7040", "7040", "UIC+EXT").spec(&[n(1, 1), x(1, 1), x(1, 1), x(1, 1).lint(&[ImporterIdx])]),
    ai("7041", "7041", "UFRGT UNIT TYPE")
        .spec(&[x(1, 4).lint(&[PackageType])])
        .req(&[&["00"]]),
    ai("710", "710", "NHRN PZN")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"]]),
    ai("711", "711", "NHRN CIP")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"]]),
    ai("712", "712", "NHRN CN")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"]]),
    ai("713", "713", "NHRN DRN")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"]]),
    ai("714", "714", "NHRN AIM")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"]]),
    ai("715", "715", "NHRN NDC")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"]]),
    ai("716", "716", "NHRN AIC")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"]]),
    ai("717", "717", "NHRN SRN")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"]]),
    ai("7230", "7230", "CERT # 1")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7231", "7231", "CERT # 2")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7232", "7232", "CERT # 3")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7233", "7233", "CERT # 4")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7234", "7234", "CERT # 5")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7235", "7235", "CERT # 6")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7236", "7236", "CERT # 7")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7237", "7237", "CERT # 8")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7238", "7238", "CERT # 9")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7239", "7239", "CERT # 10")
        .dl_attr()
        .spec(&[x(2, 2), x(1, 28)])
        .req(&[&["01"], &["8004"]]),
    ai("7240", "7240", "PROTOCOL")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"], &["8006"]])
        .ex(&["03"]),
    ai("7241", "7241", "AIDC MEDIA TYPE")
        .dl_attr()
        .spec(&[n(2, 2).lint(&[MediaType])])
        .req(&[&["8017"], &["8018"]]),
    ai("7242", "7242", "VCN")
        .dl_attr()
        .spec(&[x(1, 25)])
        .req(&[&["8017"], &["8018"]]),
    ai("7250", "7250", "DOB")
        .dl_attr()
        .spec(&[n(8, 8).lint(&[Yyyymmdd])])
        .req(&[&["8018"]])
        .ex(&["7251"]),
    ai("7251", "7251", "DOB TIME")
        .dl_attr()
        .spec(&[n(8, 8).lint(&[Yyyymmdd]), n(4, 4).lint(&[Hhmi])])
        .req(&[&["8018"]])
        .ex(&["7250"]),
    ai("7252", "7252", "BIO SEX")
        .dl_attr()
        .spec(&[n(1, 1).lint(&[Iso5218])])
        .req(&[&["8018"]]),
    ai("7253", "7253", "FAMILY NAME")
        .dl_attr()
        .spec(&[x(1, 40).lint(&[PcEnc])])
        .req(&[&["8017"], &["8018"]])
        .ex(&["7256", "7259"]),
    ai("7254", "7254", "GIVEN NAME")
        .dl_attr()
        .spec(&[x(1, 40).lint(&[PcEnc])])
        .req(&[&["8017"], &["8018"]])
        .ex(&["7256", "7259"]),
    ai("7255", "7255", "SUFFIX")
        .dl_attr()
        .spec(&[x(1, 10)])
        .req(&[&["8017"], &["8018"]])
        .ex(&["7256", "7259"]),
    ai("7256", "7256", "FULL NAME")
        .dl_attr()
        .spec(&[x(1, 90).lint(&[PcEnc])])
        .req(&[&["8017"], &["8018"]]),
    ai("7257", "7257", "PERSON ADDR")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[PcEnc])])
        .req(&[&["8018"]]),
    ai("7258", "7258", "BIRTH SEQUENCE")
        .dl_attr()
        .spec(&[x(3, 3).lint(&[PosInSeqSlash])])
        .req(&[&["8018", "7259"]]),
    ai("7259", "7259", "BABY")
        .dl_attr()
        .spec(&[x(1, 40).lint(&[PcEnc])])
        .req(&[&["8018"]])
        .ex(&["7256"]),
    ai("8001", "8001", "DIMENSIONS")
        .dl_attr()
        .spec(&[
            n(4, 4).lint(&[NonZero]),
            n(5, 5).lint(&[NonZero]),
            n(3, 3).lint(&[NonZero]),
            n(1, 1).lint(&[Winding]),
            n(1, 1),
        ])
        .req(&[&["01"]]),
    ai("8002", "8002", "CMT No.").dl_attr().spec(&[x(1, 20)]),
    ai("8003", "8003", "GRAI")
        .dl_attr()
        .spec(&[
            n(1, 1).lint(&[Zero]),
            n(13, 13).lint(&[Csum, GcpPos1]),
            x(1, 16).opt(),
        ])
        .dl_key(&[]),
    ai("8004", "8004", "GIAI")
        .dl_attr()
        .spec(&[x(1, 30).lint(&[GcpPos1])])
        .dl_key(&[&["7040"]]),
    ai("8005", "8005", "PRICE PER UNIT")
        .dl_attr()
        .spec(&[n(6, 6)])
        .req(&[&["01"], &["02"]]),
    ai("8006", "8006", "ITIP")
        .dl_attr()
        .spec(&[
            n(14, 14).lint(&[Csum, GcpPos2]),
            n(4, 4).lint(&[PieceOfTotal]),
        ])
        .ex(&["01", "03", "37"])
        .dl_key(&[&["22", "10", "21"]]),
    ai("8007", "8007", "IBAN")
        .dl_attr()
        .spec(&[x(1, 34).lint(&[Iban])])
        .req(&[&["415"]]),
    ai("8008", "8008", "PROD TIME")
        .dl_attr()
        .spec(&[
            n(6, 6).lint(&[Yymmdd]),
            n(2, 2).lint(&[Hh]),
            n(2, 2).opt().lint(&[Mi]),
            n(2, 2).opt().lint(&[Ss]),
        ])
        .req(&[&["01"], &["02"], &["03"]]),
    ai("8009", "8009", "OPTSEN")
        .dl_attr()
        .spec(&[x(1, 50)])
        .req(&[&["00"], &["01"], &["03"]]),
    ai("8010", "8010", "CPID")
        .dl_attr()
        .spec(&[y(1, 30).lint(&[GcpPos1])])
        .dl_key(&[&["8011"]]),
    ai("8011", "8011", "CPID SERIAL")
        .spec(&[n(1, 12).lint(&[NoZeroPrefix])])
        .req(&[&["8010"]]),
    ai("8012", "8012", "VERSION")
        .dl_attr()
        .spec(&[x(1, 20)])
        .req(&[&["01"], &["03"], &["8006"]]),
    ai("8013", "8013", "GMN")
        .dl_attr()
        .spec(&[x(1, 25).lint(&[CsumAlpha, GcpPos1])])
        .dl_key(&[]),
    ai("8014", "8014", "MUDI")
        .spec(&[x(1, 25).lint(&[CsumAlpha, GcpPos1, HasNonDigit])])
        .req(&[&["01"]]),
    ai("8017", "8017", "GSRN - PROVIDER")
        .dl_attr()
        .spec(&[n(18, 18).lint(&[Csum, GcpPos1])])
        .ex(&["8018"])
        .dl_key(&[&["8019"]]),
    ai("8018", "8018", "GSRN - RECIPIENT")
        .dl_attr()
        .spec(&[n(18, 18).lint(&[Csum, GcpPos1])])
        .ex(&["8017"])
        .dl_key(&[&["8019"]]),
    ai("8019", "8019", "SRIN")
        .spec(&[n(1, 10)])
        .req(&[&["8017"], &["8018"]]),
    ai("8020", "8020", "REF No.")
        .spec(&[x(1, 25)])
        .req(&[&["415"]]),
    ai("8026", "8026", "ITIP CONTENT")
        .dl_attr()
        .spec(&[
            n(14, 14).lint(&[Csum, GcpPos2]),
            n(4, 4).lint(&[PieceOfTotal]),
        ])
        .req(&[&["37"]])
        .ex(&["02", "03", "8006"]),
    ai("8030", "8030", "DIGSIG")
        .dl_attr()
        .spec(&[z(1, 90)])
        .req(&[
            &["00"],
            &["01", "21"],
            &["03", "21"],
            &["253"],
            &["255"],
            &["8003"],
            &["8004"],
            &["8006", "21"],
            &["8010", "8011"],
            &["8017"],
            &["8018"],
        ]),
    ai("8040", "8040", "IMEI")
        .spec(&[n(15, 15)])
        .req(&[&["01", "21"]]),
    ai("8041", "8041", "IMEI2")
        .spec(&[n(15, 15)])
        .req(&[&["01", "21", "8040"]]),
    ai("8042", "8042", "ESIM")
        .spec(&[n(32, 32)])
        .req(&[&["01", "21", "8040"]]),
    ai("8043", "8043", "PSIM")
        .spec(&[n(18, 18), n(1, 2).opt()])
        .req(&[&["01", "21", "8040"]]),
    ai("8110", "8110", "")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[CouponCode])]),
    ai("8111", "8111", "POINTS")
        .dl_attr()
        .spec(&[n(4, 4)])
        .req(&[&["255"]]),
    ai("8112", "8112", "")
        .dl_attr()
        .spec(&[x(1, 70).lint(&[CouponPosOffer])]),
    ai("8200", "8200", "PRODUCT URL")
        .spec(&[x(1, 70)])
        .req(&[&["01"]]),
    ai("90", "90", "INTERNAL").dl_attr().spec(&[x(1, 30)]),
    ai("91", "99", "INTERNAL").dl_attr().spec(&[x(1, 90)]),
];

/// The table entry for `ai`, if the AI is known.
pub fn lookup_ai(ai: &str) -> Option<&'static AiEntry> {
    AI_TABLE.iter().find(|entry| entry.covers(ai))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(lookup_ai("01").map(|e| e.title), Some("GTIN"));
        assert_eq!(lookup_ai("3103").map(|e| e.first), Some("3100"));
        assert!(lookup_ai("3106").is_none());
        assert_eq!(lookup_ai("95").map(|e| e.first), Some("91"));
        assert!(lookup_ai("04").is_none());
        assert_eq!(lookup_ai("00").and_then(|e| e.fixed_length()), Some(18));
    }

    #[test]
    fn table_is_sorted_and_prefix_free() {
        for pair in AI_TABLE.windows(2) {
            assert!(
                pair[0].last < pair[1].first,
                "{} / {}",
                pair[0].last,
                pair[1].first
            );
        }
        // No AI is a prefix of another, so raw scan data splits unambiguously.
        for a in AI_TABLE {
            for b in AI_TABLE {
                if a.first.len() < b.first.len() {
                    assert!(!b.first.starts_with(a.first) || !a.covers(&b.first[..a.first.len()]));
                }
            }
        }
    }
}
