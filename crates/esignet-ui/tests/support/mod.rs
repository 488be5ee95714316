//! Shared helpers of the HTTP tests: the UI router on a loopback port and a client that never
//! decompresses (so compressed sizes can be measured).

#![allow(dead_code)]

use std::net::SocketAddr;

use esignet_ui::{UiConfig, router};

/// A running UI server.
pub struct Server {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
}

impl Server {
    /// Starts the router with `config` on 127.0.0.1:0.
    pub async fn start(config: UiConfig) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router(config)).await.unwrap();
        });
        let http = reqwest::Client::builder()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Server { addr, http }
    }

    /// Starts with the default configuration.
    pub async fn default() -> Server {
        Self::start(UiConfig::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GET with extra headers; returns status, headers and the raw (possibly compressed) body.
    pub async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    /// GET as a browser would, uncompressed; returns status, headers and the body as text.
    pub async fn page(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut all = vec![("Accept", "text/html")];
        all.extend_from_slice(headers);
        let (status, headers, body) = self.get(path, &all).await;
        (status, headers, String::from_utf8(body).unwrap())
    }
}

/// The asset paths (`/ui/assets/...`) referenced by `href="..."` / `src="..."` in a page.
pub fn page_assets(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["href=\"", "src=\""] {
        for piece in html.split(marker).skip(1) {
            if let Some((url, _)) = piece.split_once('"')
                && url.starts_with("/ui/assets/")
                && !out.contains(&url.to_owned())
            {
                out.push(url.to_owned());
            }
        }
    }
    out
}

/// The module files a script imports (`"./name.hash.js"`, static or dynamic).
pub fn script_imports(script: &str) -> Vec<String> {
    script
        .split("\"./")
        .skip(1)
        .filter_map(|piece| piece.split_once('"').map(|(name, _)| name.to_owned()))
        .filter(|name| name.ends_with(".js"))
        .collect()
}

/// Decompresses a body by its Content-Encoding.
pub fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        "" | "identity" => out.extend_from_slice(body),
        other => panic!("unexpected encoding {other}"),
    }
    out
}
