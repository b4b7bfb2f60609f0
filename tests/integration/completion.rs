//! Shell completion: the real binary answering the way bash asks (`AUTHDEMO_COMPLETE=bash authdemo --
//! WORDS…`), and the script `authdemo completions bash` prints, run in bash.

use std::path::Path;

use crate::support::{StackFile, authdemo};

/// A stack with a route whose address holds a space and braces, and its function's code.
fn stack_with_routes() -> StackFile {
    let file = StackFile::new(
        "stack: complete-${var.env}\nvars: { env: dev }\nuser_pool: {}\n\
         functions:\n  api: { runtime: nodejs24.x, handler: api.handler, code: ./api }\n\
         api:\n  stage: v1\n  routes:\n    GET /items/{id}: { function: api, auth: none }\n",
    );
    let code = file.path().with_file_name("api");
    std::fs::create_dir(&code).expect("code dir");
    std::fs::write(code.join("api.js"), "exports.handler = async () => ({ statusCode: 200 });\n").expect("code");
    file
}

/// The candidates bash gets for the last of `words` (the line up to the cursor), run in `dir`.
fn bash_candidates(dir: &Path, words: &[&str]) -> Vec<String> {
    bash_candidates_at(dir, words, words.len() - 1)
}

/// The candidates bash gets for `words[cursor]`, the words after it on the line too.
fn bash_candidates_at(dir: &Path, words: &[&str], cursor: usize) -> Vec<String> {
    let index = cursor.to_string();
    let run = authdemo(&[&["--"], words].concat())
        .current_dir(dir)
        .env("AUTHDEMO_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", &index)
        .env("_CLAP_IFS", "\n")
        .run()
        .expect_code(0);
    assert!(run.stderr.is_empty(), "completion printed on stderr: {}", run.stderr);
    let mut candidates: Vec<String> = run.stdout.lines().map(str::to_string).collect();
    candidates.sort();
    candidates
}

#[test]
fn address_flags_offer_the_addresses_of_the_stack_file_on_the_line() {
    let file = stack_with_routes();
    let dir = file.path().parent().unwrap().to_path_buf();
    let every =
        bash_candidates(&dir, &["authdemo", "apply", "-f", "stack.yaml", "--var", "env=pr-1", "--allow-replace", ""]);
    assert_eq!(
        every,
        [
            "api_resource./items",
            r"api_resource./items/\{id\}",
            r"api_route.GET\ /items/\{id\}",
            "api_stage.v1",
            "function.api",
            "iam_role.fn-api",
            r"lambda_permission.GET\ /items/\{id\}",
            "rest_api.main",
            "user_pool.main",
        ]
    );
    let line = ["authdemo", "apply", "--allow-delete", "api_ro", "--file", "stack.yaml"];
    let routes = bash_candidates_at(&dir, &line, 3);
    assert_eq!(routes, [r"api_route.GET\ /items/\{id\}"], "the file may come after the cursor");
    for command in ["plan", "apply"] {
        let adoptable = bash_candidates(&dir, &["authdemo", command, "-f", "stack.yaml", "--adopt", ""]);
        assert_eq!(adoptable, ["function.api", "iam_role.fn-api", "user_pool.main"], "{command} --adopt");
    }
}

#[test]
fn a_stack_file_that_does_not_load_gives_no_candidates_and_no_file_names() {
    let file = stack_with_routes();
    let dir = file.path().parent().unwrap().to_path_buf();
    assert!(bash_candidates(&dir, &["authdemo", "apply", "--allow-replace", ""]).is_empty(), "no authdemo.yaml here");
    file.write("stack: [broken\n");
    assert!(bash_candidates(&dir, &["authdemo", "apply", "-f", "stack.yaml", "--adopt", ""]).is_empty());
    assert_eq!(bash_candidates(&dir, &["authdemo", "apply", "-f", "st"]), ["stack.yaml"], "-f still completes files");
}

#[test]
fn the_bash_script_registers_authdemo_and_its_completions_reach_the_stack_file() {
    let file = stack_with_routes();
    let dir = file.path().parent().unwrap().to_path_buf();
    let script = authdemo(&["completions", "bash"]).run().expect_code(0).stdout;
    std::fs::write(dir.join("authdemo.bash"), &script).expect("write the script");
    let session = r#"source ./authdemo.bash
complete -p authdemo
COMP_WORDS=(authdemo plan -f stack.yaml --adopt us)
COMP_CWORD=5
COMP_TYPE=9
_clap_complete_authdemo authdemo us --adopt
printf 'reply: %s\n' "${COMPREPLY[@]}"
"#;
    let output = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", session])
        .current_dir(&dir)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("-F _clap_complete_authdemo authdemo\n"), "{stdout}");
    assert!(stdout.contains("reply: user_pool.main\n"), "{stdout}");
    assert_eq!(stdout.matches("reply:").count(), 1, "{stdout}");
}
