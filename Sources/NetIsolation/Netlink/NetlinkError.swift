#if canImport(Glibc)
import Glibc
#endif

/// The kernel (or the netlink socket) refused part of a transaction. `object` names what was
/// being programmed in the configuration's words; nothing of the batch took effect.
public struct NetlinkError: Error, CustomStringConvertible {
    public var object: String
    public var errno: Int32

    public var description: String {
        let reason = String(cString: strerror(errno))
        if errno == EPERM {
            return "\(object): \(reason): programming nftables needs CAP_NET_ADMIN (run as root, or grant the capability)"
        }
        return "\(object): \(reason); nothing was changed, the previous table stays in force"
    }
}
