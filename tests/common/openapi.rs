//! A small validator for the structural OpenAPI v3 schemas Kubernetes CRDs carry
//! (`spec.versions[].schema.openAPIV3Schema`): type, properties (unknown fields rejected, as
//! the API server prunes them), required, items, additionalProperties, enum, min/max length
//! and items, and pattern. CEL rules (`x-kubernetes-validations`) are checked by the caller.

use serde_json::Value;

/// The `openAPIV3Schema` of version `version` of the CRD in `crd_yaml`.
pub fn crd_schema(crd_yaml: &str, version: &str) -> Value {
    let crd: Value = serde_saphyr::from_str(crd_yaml).expect("CRD parses");
    crd["spec"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["name"] == version)
        .unwrap_or_else(|| panic!("no version {version}"))["schema"]["openAPIV3Schema"]
        .clone()
}

/// Every violation of `schema` by `value`, with its JSON path.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(schema, value, "$", &mut out);
    out
}

fn walk(s: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let ty = s["type"].as_str().unwrap_or("");
    let ok = match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    };
    if !ok {
        out.push(format!("{path}: expected {ty}, got {v}"));
        return;
    }
    if let Some(e) = s["enum"].as_array() {
        if !e.contains(v) {
            out.push(format!("{path}: {v} not in {e:?}"));
        }
    }
    if let Some(text) = v.as_str() {
        let n = text.chars().count() as u64;
        if let Some(max) = s["maxLength"].as_u64() {
            if n > max {
                out.push(format!("{path}: longer than {max}"));
            }
        }
        if let Some(min) = s["minLength"].as_u64() {
            if n < min {
                out.push(format!("{path}: shorter than {min}"));
            }
        }
        if let Some(p) = s["pattern"].as_str() {
            if !regex::Regex::new(p).expect("pattern").is_match(text) {
                out.push(format!("{path}: `{text}` does not match {p}"));
            }
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(max) = s["maxItems"].as_u64() {
            if items.len() as u64 > max {
                out.push(format!("{path}: more than {max} items"));
            }
        }
        if let Some(min) = s["minItems"].as_u64() {
            if (items.len() as u64) < min {
                out.push(format!("{path}: fewer than {min} items"));
            }
        }
        for (i, item) in items.iter().enumerate() {
            walk(&s["items"], item, &format!("{path}[{i}]"), out);
        }
    }
    if let Some(map) = v.as_object() {
        if let Some(req) = s["required"].as_array() {
            for r in req {
                if !map.contains_key(r.as_str().unwrap_or("")) {
                    out.push(format!("{path}: missing required {r}"));
                }
            }
        }
        let props = s["properties"].as_object();
        let extra = &s["additionalProperties"];
        let preserve = s["x-kubernetes-preserve-unknown-fields"] == true;
        for (k, child) in map {
            match props.and_then(|p| p.get(k)) {
                Some(cs) => walk(cs, child, &format!("{path}.{k}"), out),
                None if extra.is_object() => walk(extra, child, &format!("{path}.{k}"), out),
                None if preserve || (props.is_none() && !extra.is_object()) => {}
                None => out.push(format!("{path}: unknown field `{k}`")),
            }
        }
    }
}
