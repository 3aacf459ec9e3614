//! A small JSON Schema (draft-04) validator for the conformance tests: `$ref` within the
//! document, `type`, `properties`, `required`, `additionalProperties`, `items`, `enum`,
//! `minimum`, `maximum`, `minItems`, `uniqueItems`, `oneOf`, `anyOf` and the `uri`,
//! `uri-reference` and `date-time` formats. `pattern` is not checked (no regex engine in
//! the dev-dependencies); everything else the SARIF 2.1.0 schema uses is.

use serde_json::Value;

/// Every violation of `schema` by `value`, as `path: what`.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, value, "$", &mut errors);
    errors
}

fn resolve<'a>(root: &'a Value, reference: &str) -> &'a Value {
    let path = reference.strip_prefix("#/").expect("local $ref");
    path.split('/')
        .fold(root, |v, key| &v[key.replace("~1", "/").replace("~0", "~")])
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        _ => true,
    }
}

fn uri_ok(s: &str, absolute: bool) -> bool {
    let no_space = !s.chars().any(|c| c.is_whitespace() || c == '\\');
    let scheme = s.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme.chars().next().unwrap().is_ascii_alphabetic()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    no_space && (!absolute || scheme)
}

fn check(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return check(root, resolve(root, r), v, path, errors);
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => {
            return errors.push(format!("{path}: not of type {t}"));
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(t.as_str().unwrap_or(""), v)) => {
            return errors.push(format!("{path}: not of types {ts:?}"));
        }
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(v) {
            errors.push(format!("{path}: {v} not in {options:?}"));
        }
    }
    if let (Some(min), Some(x)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if x < min {
            errors.push(format!("{path}: {x} below {min}"));
        }
    }
    if let (Some(max), Some(x)) = (schema.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if x > max {
            errors.push(format!("{path}: {x} above {max}"));
        }
    }
    if let (Some(f), Some(s)) = (schema.get("format").and_then(Value::as_str), v.as_str()) {
        let ok = match f {
            "uri" => uri_ok(s, true),
            "uri-reference" => uri_ok(s, false),
            "date-time" => s.len() >= 20 && s.as_bytes()[10] == b'T',
            _ => true,
        };
        if !ok {
            errors.push(format!("{path}: `{s}` is not a {f}"));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = key.as_str().unwrap_or_default();
            if !obj.contains_key(key) {
                errors.push(format!("{path}: missing required `{key}`"));
            }
        }
        for (key, value) in obj {
            let sub = format!("{path}.{key}");
            match (
                props.and_then(|p| p.get(key)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => check(root, s, value, &sub, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{sub}: not allowed")),
                (None, Some(s)) if s.is_object() => check(root, s, value, &sub, errors),
                _ => {}
            }
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                errors.push(format!("{path}: fewer than {min} items"));
            }
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, a) in items.iter().enumerate() {
                if items[..i].contains(a) {
                    errors.push(format!("{path}[{i}]: duplicate item"));
                }
            }
        }
        if let Some(s) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(root, s, item, &format!("{path}[{i}]"), errors);
            }
        }
    }
    for (key, need_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let passing = options
                .iter()
                .filter(|s| {
                    let mut e = Vec::new();
                    check(root, s, v, path, &mut e);
                    e.is_empty()
                })
                .count();
            if passing == 0 || (need_one && passing > 1) {
                errors.push(format!("{path}: {passing} of {key} match"));
            }
        }
    }
}
