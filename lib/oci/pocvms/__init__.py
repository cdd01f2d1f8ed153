"""``oci-poc vms`` (``make poc-vms``): the talk on one machine, with qemu VMs behind simulated BMCs (docs/poc.md).

``plan``: the lab as data (network, VMs, BMCs; sized to the machine); ``render``: the files and command lines
it needs (ipmi_sim configuration, the chassis-control hook, qemu's argv); ``network``: the namespace set up and
torn down; ``progress``: the live table and the summary; ``main``: the run itself.
"""
