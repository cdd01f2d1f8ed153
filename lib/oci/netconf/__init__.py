"""Each machine's network configuration, from the cluster's state to the files of the installed system.

``build`` turns the state into a typed ``model.HostNetwork``; renderers (``eni`` for ifupdown, ``hosts`` for
/etc/hosts) turn that into text without looking at any host; ``target`` writes the text under a root;
``service`` ties them to the store and ``main`` is ``oci-netconf``. See docs/netconf.md.
"""
