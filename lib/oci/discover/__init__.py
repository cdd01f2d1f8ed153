"""Discovery: pure parsers of tool output (dmidecode, lsblk, ip link) and the report they make.

Collectors that run the tools on a live node come with the discovery agent; everything here takes text
and returns data, so it is tested on captured real output (tests/data/hw/).
"""
