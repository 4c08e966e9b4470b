//! Footprint: the memory the run has taken so far, as the system counts it.
//!
//! A step that can go faster by holding more (reconciling milestones and
//! measures side by side) asks here whether that fits in what the run has
//! already used, so that the run's peak stays where reading the documents
//! put it. Figures are resident set sizes in bytes; `None` where the system
//! does not say.

/// The peak resident set of this process so far.
pub fn own_peak() -> Option<u64> {
    max_rss(libc::RUSAGE_SELF)
}

/// The largest peak resident set of any child process this one has waited
/// for (the run's workers, once they are done).
pub fn children_peak() -> Option<u64> {
    max_rss(libc::RUSAGE_CHILDREN)
}

/// The resident set of this process now.
pub fn own_now() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf only reads a system constant.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(page).ok().map(|p| p * pages)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// What the run held at its peak and has given back to the system since:
/// the peak of each of `workers` child processes that are done (so at most
/// `workers` at a time held that much), and what this process held at its
/// peak beyond what it holds now. Memory this process freed but its
/// allocator kept is not counted: the system does not see it.
pub fn given_back(workers: usize) -> u64 {
    let children = children_peak().unwrap_or(0).saturating_mul(workers as u64);
    let own = own_peak().unwrap_or(0).saturating_sub(own_now().unwrap_or(u64::MAX));
    children.saturating_add(own)
}

fn max_rss(who: libc::c_int) -> Option<u64> {
    // SAFETY: getrusage fills the struct it is given and nothing else; an
    // all-zero rusage is a valid value of the type.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return None;
    }
    let max = u64::try_from(usage.ru_maxrss).ok()?;
    // Linux counts in KiB, macOS in bytes; elsewhere the unit is not known.
    if cfg!(target_os = "linux") {
        Some(max * 1024)
    } else if cfg!(target_os = "macos") {
        Some(max)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_footprint() {
        let now = own_now().unwrap_or(0);
        assert!(now > 0, "a running process has pages");
        // Read after `now`: the peak so far includes it (tests on other
        // threads may only have added to it).
        assert!(own_peak().unwrap_or(0) >= now);
        // 64 MiB held and touched are counted, in bytes, not KiB.
        let held = vec![1u8; 64 << 20];
        assert!(own_now().unwrap_or(0) >= 64 << 20);
        assert!(own_peak().unwrap_or(0) >= 64 << 20);
        assert!(own_peak().unwrap_or(0) < 64 << 30, "a test process is not 64 GiB");
        drop(held);
    }
}
