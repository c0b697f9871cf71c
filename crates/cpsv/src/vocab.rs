//! The vocabularies CPSV-AP builds on, and the few words Guichet adds for what it needs that
//! CPSV-AP does not say.

pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
pub const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
pub const CPSV: &str = "http://purl.org/vocab/cpsv#";
pub const CV: &str = "http://data.europa.eu/m8g/";
pub const DCT: &str = "http://purl.org/dc/terms/";
pub const DCAT: &str = "http://www.w3.org/ns/dcat#";
pub const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
pub const FOAF: &str = "http://xmlns.com/foaf/0.1/";
pub const RDFS: &str = "http://www.w3.org/2000/01/rdf-schema#";
/// The EU's authority tables: languages and currencies by their three-letter codes.
pub const EU_LANGUAGE: &str = "http://publications.europa.eu/resource/authority/language/";
pub const EU_CURRENCY: &str = "http://publications.europa.eu/resource/authority/currency/";
/// Guichet's own words, for what a counter needs and CPSV-AP does not describe (the depth of
/// a service per channel, its form, fee tier, exemptions, where it is offered, a category's
/// queue letter, a document's kind). An export writes them; an import reads them when
/// present, so that a catalogue survives a round trip.
pub const GX: &str = "https://example.invalid/guichet/ns#";

/// The prefixes an export declares and a report writes predicates with.
pub const PREFIXES: [(&str, &str); 12] = [
    ("cpsv", CPSV),
    ("cv", CV),
    ("dct", DCT),
    ("dcat", DCAT),
    ("skos", SKOS),
    ("xsd", XSD),
    ("foaf", FOAF),
    ("rdfs", RDFS),
    ("gx", GX),
    ("adms", "http://www.w3.org/ns/adms#"),
    ("eli", "http://data.europa.eu/eli/ontology#"),
    ("schema", "https://schema.org/"),
];

/// `prefix` + `local`, as one IRI.
pub fn iri(prefix: &str, local: &str) -> String {
    format!("{prefix}{local}")
}

/// The two-letter code of a language named by a tag ("en", "nb-NO"), a three-letter code
/// ("ENG", "ita") or an EU authority IRI (`.../language/NOB`). Unknown three-letter codes
/// stay as they are, lowercase.
pub fn language_code(name: &str) -> String {
    let name = name.trim();
    let code = name.rsplit('/').next().unwrap_or(name);
    let base = code
        .split(['-', '_'])
        .next()
        .unwrap_or(code)
        .to_ascii_lowercase();
    if base.len() == 2 {
        return base;
    }
    let two = match base.as_str() {
        "eng" => "en",
        "fra" | "fre" => "fr",
        "ita" => "it",
        "deu" | "ger" => "de",
        "nld" | "dut" => "nl",
        "spa" => "es",
        "por" => "pt",
        "nob" => "nb",
        "nno" => "nn",
        "nor" => "no",
        "swe" => "sv",
        "dan" => "da",
        "fin" => "fi",
        "est" => "et",
        "lav" => "lv",
        "lit" => "lt",
        "pol" => "pl",
        "ces" | "cze" => "cs",
        "slk" | "slo" => "sk",
        "slv" => "sl",
        "hrv" => "hr",
        "hun" => "hu",
        "ron" | "rum" => "ro",
        "bul" => "bg",
        "ell" | "gre" => "el",
        "gle" => "ga",
        "mlt" => "mt",
        "cat" => "ca",
        "eus" | "baq" => "eu",
        "glg" => "gl",
        "aze" => "az",
        "rus" => "ru",
        "ukr" => "uk",
        "tur" => "tr",
        "ara" => "ar",
        _ => return base,
    };
    two.to_owned()
}

/// The three-letter code the EU's language table uses for a two-letter code, when known.
pub fn eu_language(two: &str) -> Option<&'static str> {
    Some(match two {
        "en" => "ENG",
        "fr" => "FRA",
        "it" => "ITA",
        "de" => "DEU",
        "nl" => "NLD",
        "es" => "SPA",
        "pt" => "POR",
        "nb" => "NOB",
        "nn" => "NNO",
        "sv" => "SWE",
        "da" => "DAN",
        "fi" => "FIN",
        "et" => "EST",
        "el" => "ELL",
        "pl" => "POL",
        "ro" => "RON",
        "az" => "AZE",
        "ru" => "RUS",
        "ar" => "ARA",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_named_by_two_letters() {
        assert_eq!(language_code("en"), "en");
        assert_eq!(language_code("nb-NO"), "nb");
        assert_eq!(language_code("ITA"), "it");
        assert_eq!(
            language_code("http://publications.europa.eu/resource/authority/language/NOB"),
            "nb"
        );
        assert_eq!(language_code("xyz"), "xyz");
        assert_eq!(eu_language("it"), Some("ITA"));
    }
}
