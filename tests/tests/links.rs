//! The README and the pages under docs/ hold together: every relative link reaches a file of the repository, every
//! `#section` a heading of its page (as GitHub names headings), every page is linked from the README, and the README
//! stays short enough to read on a screen or two.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The README's length budget: what it is, the picture, the two commands, deploy, and links.
const README_MAX_LINES: usize = 250;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository")
        .to_path_buf()
}

/// The README and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let root = repository();
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// A page's links (destinations as written) and its headings' anchors.
struct Page {
    links: Vec<String>,
    anchors: BTreeSet<String>,
}

fn read(path: &Path) -> Page {
    let text = std::fs::read_to_string(path).unwrap();
    let mut links = Vec::new();
    let mut anchors = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(&text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(heading) = heading.as_mut() {
                    heading.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let slug = slug(&heading.take().unwrap_or_default());
                // GitHub numbers repeated headings: `setup`, `setup-1`, …
                let count = seen.entry(slug.clone()).or_default();
                anchors.insert(match *count {
                    0 => slug.clone(),
                    n => format!("{slug}-{n}"),
                });
                *count += 1;
            }
            _ => {}
        }
    }
    Page { links, anchors }
}

/// A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn is_external(link: &str) -> bool {
    link.contains("://") || link.starts_with("mailto:")
}

#[test]
fn every_relative_link_of_the_readme_and_docs_reaches_a_file_and_a_heading_there() {
    let root = repository();
    let pages: BTreeMap<PathBuf, Page> =
        pages().into_iter().map(|p| (p.clone(), read(&p))).collect();
    let mut broken = Vec::new();
    for (path, page) in &pages {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        for link in page.links.iter().filter(|l| !is_external(l)) {
            let (file, anchor) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() {
                path.clone()
            } else {
                path.parent().unwrap().join(file)
            };
            let Ok(target) = target.canonicalize() else {
                broken.push(format!("{name}: {link} (no such file)"));
                continue;
            };
            if !target.starts_with(&root) {
                broken.push(format!("{name}: {link} (outside the repository)"));
                continue;
            }
            if anchor.is_empty() {
                continue;
            }
            let anchors = match pages.get(&target) {
                Some(page) => page.anchors.clone(),
                None if target.extension().is_some_and(|e| e == "md") => read(&target).anchors,
                None => {
                    broken.push(format!(
                        "{name}: {link} (a section of a file that has none)"
                    ));
                    continue;
                }
            };
            if !anchors.contains(anchor) {
                broken.push(format!("{name}: {link} (no such heading)"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_under_docs_is_linked_from_the_readme() {
    let root = repository();
    let readme = read(&root.join("README.md"));
    let linked: BTreeSet<PathBuf> = readme
        .links
        .iter()
        .filter(|l| !is_external(l))
        .filter_map(|l| root.join(l.split('#').next().unwrap()).canonicalize().ok())
        .collect();
    let unlinked: Vec<String> = pages()
        .into_iter()
        .skip(1)
        .filter(|page| !linked.contains(&page.canonicalize().unwrap()))
        .map(|page| page.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(
        unlinked.is_empty(),
        "not linked from the README: {unlinked:?}"
    );
}

#[test]
fn the_readme_fits_on_a_screen_or_two() {
    let lines = std::fs::read_to_string(repository().join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(lines <= README_MAX_LINES, "README.md has {lines} lines");
}

#[test]
fn a_heading_is_named_as_github_names_it() {
    assert_eq!(slug("The local AWS"), "the-local-aws");
    assert_eq!(slug("When an alarm fires"), "when-an-alarm-fires");
    assert_eq!(
        slug("`make e2e TEST=<name>`: one test"),
        "make-e2e-testname-one-test"
    );
    assert_eq!(slug("Start-up, and cost"), "start-up-and-cost");
}
