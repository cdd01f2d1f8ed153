# oci::tempest: nothing beyond oci::generic yet; the class exists so that hosts of this role classify.
class oci::tempest {
}
