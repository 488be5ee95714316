//! The login page's first-load weight, compressed, and the no-third-party rule.
//!
//! Measured over HTTP like a browser: the page, then every asset it references, then every
//! module those scripts import (static and dynamic, so the figure covers the biometric and
//! wallet modules too). Run with `--nocapture` to see the table for BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use esignet_ui::LOCALES;
use support::{Server, page_assets, script_imports};

/// The budget: 100 KB transferred, compressed.
const BUDGET: usize = 100 * 1024;

/// Every file of the login page's first load, as paths.
async fn login_closure(server: &Server, lang: &str) -> Vec<String> {
    let page = format!("/login?ui_locales={lang}");
    let (_, _, html) = server.page(&page, &[]).await;
    let mut files = vec![page];
    let mut queue = page_assets(&html);
    while let Some(path) = queue.pop() {
        if files.contains(&path) {
            continue;
        }
        if path.ends_with(".js") {
            let (_, _, body) = server.get(&path, &[]).await;
            let script = String::from_utf8(body).unwrap();
            queue.extend(
                script_imports(&script)
                    .into_iter()
                    .map(|f| format!("/ui/assets/{f}")),
            );
        }
        files.push(path);
    }
    files
}

/// Transferred size of `path` with `encoding`.
async fn size(server: &Server, path: &str, encoding: &str) -> usize {
    let (code, headers, body) = server
        .get(
            path,
            &[("Accept-Encoding", encoding), ("Accept", "text/html")],
        )
        .await;
    assert_eq!(code, 200, "{path}");
    if encoding != "identity" {
        assert_eq!(headers["content-encoding"], encoding, "{path}");
    }
    body.len()
}

#[tokio::test]
async fn login_first_load_is_under_100_kb_compressed() {
    let server = Server::default().await;
    println!("login page first load (bytes), English:");
    println!("| file | raw | gzip | br |");
    println!("|---|---:|---:|---:|");
    let files = login_closure(&server, "en").await;
    let mut totals = [0usize; 3];
    for path in &files {
        let sizes = [
            size(&server, path, "identity").await,
            size(&server, path, "gzip").await,
            size(&server, path, "br").await,
        ];
        for (total, size) in totals.iter_mut().zip(sizes) {
            *total += size;
        }
        let name = path
            .split('?')
            .next()
            .unwrap()
            .trim_start_matches("/ui/assets/");
        println!("| {name} | {} | {} | {} |", sizes[0], sizes[1], sizes[2]);
    }
    println!(
        "| total ({} files) | {} | {} | {} |",
        files.len(),
        totals[0],
        totals[1],
        totals[2]
    );
    assert!(
        totals[1] < BUDGET,
        "gzip total {} exceeds the budget",
        totals[1]
    );
    assert!(
        totals[2] < BUDGET,
        "br total {} exceeds the budget",
        totals[2]
    );

    println!("per language (whole first load; only the page differs):");
    for locale in LOCALES {
        let files = login_closure(&server, locale.code).await;
        let mut gzip = 0;
        let mut br = 0;
        for path in &files {
            gzip += size(&server, path, "gzip").await;
            br += size(&server, path, "br").await;
        }
        println!("  {}: gzip {gzip} B, br {br} B", locale.code);
        assert!(gzip < BUDGET && br < BUDGET, "{}: over budget", locale.code);
    }
}

/// Absolute URLs allowed in pages and assets: the SBI devices on the loopback interface (the
/// point of biometric login) and the SVG namespace, an identifier that is never fetched.
const ALLOWED_ABSOLUTE: &[&str] = &["http://127.0.0.1", "http://www.w3.org/2000/svg"];

#[tokio::test]
async fn no_page_or_asset_names_another_host() {
    let server = Server::default().await;
    let mut checked = Vec::new();
    for page in [
        "/authorize?client_id=x",
        "/login",
        "/claim-details",
        "/consent",
        "/error",
        "/something-went-wrong",
        "/network-error",
        "/page-not-found",
    ] {
        let (_, _, html) = server.page(page, &[]).await;
        let mut bodies = vec![(page.to_owned(), html.clone())];
        let mut queue = page_assets(&html);
        while let Some(path) = queue.pop() {
            if checked.contains(&path) {
                continue;
            }
            checked.push(path.clone());
            let (_, _, body) = server.get(&path, &[]).await;
            let text = String::from_utf8(body).unwrap();
            queue.extend(
                script_imports(&text)
                    .into_iter()
                    .map(|f| format!("/ui/assets/{f}")),
            );
            bodies.push((path, text));
        }
        for (path, text) in bodies {
            for scheme in ["http://", "https://", "//fonts.", "url(http"] {
                for (at, _) in text.match_indices(scheme) {
                    let rest = &text[at..];
                    assert!(
                        ALLOWED_ABSOLUTE
                            .iter()
                            .any(|allowed| rest.starts_with(allowed)),
                        "{path} names another host: {}",
                        &rest[..rest.len().min(60)]
                    );
                }
            }
            assert!(!text.contains("@import"), "{path} imports a stylesheet");
        }
    }
}
