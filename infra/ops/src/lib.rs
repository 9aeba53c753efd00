//! Operations tools for a deployed intake stack (local or on AWS): where it is ([`stack`]), read-only views of its
//! queues, table and logs ([`aws`]), a trial's flagged submissions ([`flags`]), its data out as CSV and FHIR
//! ([`export`]), moving dead letters back after an incident ([`redrive`]), placing a trial's reports on their
//! timelines again ([`timeline`]), and layout migrations of the items a table holds ([`migrate`]).
//!
//! The integration tests and the burst driver build on the same pieces, so what an operator runs is what the tests
//! exercise.

pub mod aws;
pub mod capacity;
pub mod export;
pub mod flags;
pub mod migrate;
pub mod redrive;
pub mod stack;
pub mod timeline;

pub use aws::Aws;
pub use stack::{Stack, StackChoice};

/// Errors of the operations tools: an SDK, I/O or decoding failure, as text for the operator.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[cfg(test)]
mod tests {
    /// The names of the `.rs` files (or folders) in `dir`, below the workspace root.
    fn names(dir: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        std::fs::read_dir(path)
            .unwrap()
            .map(|entry| {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                name.trim_end_matches(".rs").to_owned()
            })
            .collect()
    }

    #[test]
    fn no_tool_shares_its_binarys_name_with_a_function() {
        // `make build` compiles the tools with the functions in one cargo invocation: two binaries of one name
        // would overwrite each other, and a function could be deployed as a tool.
        let functions = names("../../functions");
        let tools = names("src/bin");
        assert!(functions.contains(&"timeline".to_owned()) && tools.len() >= 5);
        for tool in &tools {
            assert!(
                !functions.contains(tool),
                "the tool {tool} is named like a function"
            );
        }
    }
}
