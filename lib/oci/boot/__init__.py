"""Boot services: what makes an unknown server PXE-boot into the live image and an installed one boot its
disk. Renderers are pure (``dhcp``, ``ipxe``); ``render`` writes their output and the TFTP root."""
