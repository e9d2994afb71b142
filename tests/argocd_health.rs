//! `argocd/health.lua` under Lua 5.1 with only the libraries Argo CD gives a
//! script installed through `argocd-cm` (base, table, package), against the
//! cases in `argocd/health_test.yaml` (upstream's format).

use std::path::Path;

use mlua::serde::SerializeOptions;
use mlua::{Lua, LuaOptions, LuaSerdeExt, StdLib, Table};

#[derive(serde::Deserialize)]
struct Cases {
    tests: Vec<Case>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    health_status: Expected,
    input_path: String,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Expected {
    status: String,
    message: String,
}

fn health(script: &str, object: &serde_json::Value) -> Expected {
    let lua = Lua::new_with(StdLib::TABLE | StdLib::PACKAGE, LuaOptions::default()).expect("lua");
    let options = SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    lua.globals()
        .set("obj", lua.to_value_with(object, options).expect("obj"))
        .expect("set obj");
    let result: Table = lua.load(script).eval().expect("the script runs");
    Expected {
        status: result.get("status").expect("status"),
        message: result.get("message").expect("message"),
    }
}

#[test]
fn health_script_gives_the_expected_status_for_every_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("argocd");
    let script = std::fs::read_to_string(dir.join("health.lua")).expect("health.lua");
    let cases: Cases = serde_yaml::from_str(
        &std::fs::read_to_string(dir.join("health_test.yaml")).expect("cases"),
    )
    .expect("yaml");
    assert!(!cases.tests.is_empty());
    for case in cases.tests {
        let object: serde_json::Value = serde_yaml::from_str(
            &std::fs::read_to_string(dir.join(&case.input_path)).expect("input"),
        )
        .expect("yaml");
        assert_eq!(
            health(&script, &object),
            case.health_status,
            "{}",
            case.input_path
        );
    }
}
