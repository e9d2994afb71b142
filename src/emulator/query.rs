//! Query strings decoded the way Huawei's signer reads them: `%XX` escapes
//! only, with `+` kept as a plus (the SDK encodes spaces as `%20`). The
//! signature check, the list filters and the request log must all see the
//! same pairs, or a request could verify and then filter differently.

use std::collections::BTreeMap;

/// Decodes a raw query string into pairs, in order.
pub fn decode_query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// Folds query pairs into a map, joining a repeated key's values with `,`.
pub fn query_map(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k.clone())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(v);
            })
            .or_insert_with(|| v.clone());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding_keeps_plus_and_joins_repeats() {
        let pairs = decode_query_pairs(Some("name=my%20vault&id=a&id=b&x=1+2&flag"));
        let map = query_map(&pairs);
        assert_eq!(map["name"], "my vault");
        assert_eq!(map["id"], "a,b");
        assert_eq!(map["x"], "1+2");
        assert_eq!(map["flag"], "");
    }
}
