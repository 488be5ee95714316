//! Server CPU time and memory from /proc (Linux).

/// One reading of a process's counters.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// User + system CPU seconds so far.
    pub cpu_seconds: f64,
    /// Resident set size now, bytes.
    pub rss_bytes: u64,
    /// Peak resident set size since start (VmHWM), bytes.
    pub peak_rss_bytes: u64,
    /// Bytes passed to read-like and write-like system calls so far (`rchar` + `wchar` of
    /// /proc/<pid>/io): for a server, its sockets (and any file it writes).
    pub io_bytes: Option<u64>,
}

/// CPU seconds of one process (utime + stime), from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the full line: 12 and 13 after the ')'.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux platform this runs on.
    Some((utime + stime) / 100.0)
}

fn io_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |name: &str| -> Option<u64> {
        io.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| value.trim().parse().ok())
    };
    Some(field("rchar:")? + field("wchar:")?)
}

/// Reads /proc/<pid>; `None` when the process is gone or /proc is unavailable.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let cpu_seconds = cpu_seconds(pid)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |name: &str| -> Option<u64> {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse::<u64>().ok())
            .map(|kib| kib * 1024)
    };
    Some(ProcSample {
        cpu_seconds,
        rss_bytes: kib("VmRSS:")?,
        peak_rss_bytes: kib("VmHWM:")?,
        io_bytes: io_bytes(pid),
    })
}

/// CPU seconds per process, for each watched (name, command name).
pub type WatchedSample = Vec<(String, std::collections::HashMap<u32, f64>)>;

/// Reads the CPU time of every process whose command name matches a watched one.
pub fn sample_watched(watched: &[(String, String)]) -> WatchedSample {
    let mut processes: Vec<(u32, String)> = Vec::new();
    if !watched.is_empty()
        && let Ok(entries) = std::fs::read_dir("/proc")
    {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
                processes.push((pid, comm.trim().to_owned()));
            }
        }
    }
    watched
        .iter()
        .map(|(name, comm)| {
            let cpu = processes
                .iter()
                .filter(|(_, c)| c == comm)
                .filter_map(|(pid, _)| Some((*pid, cpu_seconds(*pid)?)))
                .collect();
            (name.clone(), cpu)
        })
        .collect()
}

/// CPU seconds each watched group used between two samples. A process that started in between
/// counts whole; one that exited in between is lost (pooled connections outlive a run).
pub fn watched_cpu_delta(before: &WatchedSample, after: &WatchedSample) -> Vec<(String, f64)> {
    after
        .iter()
        .map(|(name, processes)| {
            let earlier = before.iter().find(|(n, _)| n == name).map(|(_, p)| p);
            let used = processes
                .iter()
                .map(|(pid, cpu)| cpu - earlier.and_then(|p| p.get(pid)).copied().unwrap_or(0.0))
                .sum();
            (name.clone(), used)
        })
        .collect()
}
