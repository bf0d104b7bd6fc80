"""What a hotline centre reports to its government: periodic reports, rankings and
notices (通报), hot-issue analysis and exports (docs/reports.md). It reads what the
packages before it write and owns only its own tables; it may read from a replica."""
