import Addressing
import CNFTables

/// Rules as nf_tables expressions, in the order nft itself compiles the same text, so that the
/// kernel holds byte for byte what `nft -f` of the plan would give and `nft list` prints the plan
/// back. Each match loads into register 1 and compares; a protocol match brings its dependency
/// (`meta nfproto`, `meta l4proto`) once per rule, as nft does.
struct RuleEncoder {
    private(set) var expressions: [OpaquePointer] = []
    private var family: IPFamily?
    private var l4proto: UInt8?
    let setIDs: [String: UInt32]

    init(setIDs: [String: UInt32]) { self.setIDs = setIDs }

    static let reg1 = c32(NFT_REG_1)

    mutating func encode(_ rule: FilterRule) {
        for m in rule.matches { encode(m) }
        append(expr("counter"))
        switch rule.verdict {
        case .notrack: append(expr("notrack"))
        case .accept: verdict(Int32(NF_ACCEPT))
        case .drop: verdict(Int32(NF_DROP))
        case .return: verdict(Int32(bitPattern: c32(NFT_RETURN)))
        case .jump(let chain): verdict(Int32(bitPattern: c32(NFT_JUMP)), chain: chain)
        }
    }

    private mutating func encode(_ m: FilterMatch) {
        switch m {
        case .loopback(let inbound):
            meta(inbound ? NFT_META_IIF : NFT_META_OIF)
            var index = if_nametoindex("lo")
            cmp(NFT_CMP_EQ, withUnsafeBytes(of: &index) { Array($0) })
        case .interface(let name, let inbound):
            meta(inbound ? NFT_META_IIFNAME : NFT_META_OIFNAME)
            var bytes = Array(name.utf8.prefix(15))
            bytes += [UInt8](repeating: 0, count: 16 - bytes.count)
            cmp(NFT_CMP_EQ, bytes)
        case .established:
            let e = expr("ct")
            nftnl_expr_set_u32(e, u16(NFTNL_EXPR_CT_KEY), c32(NFT_CT_STATE))
            nftnl_expr_set_u32(e, u16(NFTNL_EXPR_CT_DREG), Self.reg1)
            append(e)
            let established: UInt32 = 1 << 1, related: UInt32 = 1 << 2
            bitwise(mask: host32(established | related), xor: host32(0))
            cmp(NFT_CMP_NEQ, host32(0))
        case .family(let f):
            meta(NFT_META_NFPROTO)
            cmp(NFT_CMP_EQ, [UInt8(truncatingIfNeeded: c32(f == .v4 ? c32(NFPROTO_IPV4) : c32(NFPROTO_IPV6)))])
            family = f
        case .l4proto(let t):
            meta(NFT_META_L4PROTO)
            cmp(NFT_CMP_EQ, [protocolNumber(t)])
            l4proto = protocolNumber(t)
        case .prefix(let p, let d):
            let f = IPFamily.of(p.network)
            need(f)
            let full = f == .v4 ? 32 : 128
            let octets = p.network.octets
            if p.prefixLength % 8 == 0 && p.prefixLength > 0 {
                payload(NFT_PAYLOAD_NETWORK_HEADER, offset: addressOffset(f, d), length: p.prefixLength / 8)
                cmp(NFT_CMP_EQ, Array(octets.prefix(p.prefixLength / 8)))
            } else {
                payload(NFT_PAYLOAD_NETWORK_HEADER, offset: addressOffset(f, d), length: full / 8)
                bitwise(mask: CIDR.maskOctets(length: p.prefixLength, total: full / 8), xor: [UInt8](repeating: 0, count: full / 8))
                cmp(NFT_CMP_EQ, octets)
            }
        case .addressSet(let name, let f, let d):
            need(f)
            payload(NFT_PAYLOAD_NETWORK_HEADER, offset: addressOffset(f, d), length: f == .v4 ? 4 : 16)
            let e = expr("lookup")
            nftnl_expr_set_u32(e, u16(NFTNL_EXPR_LOOKUP_SREG), Self.reg1)
            nftnl_expr_set_str(e, u16(NFTNL_EXPR_LOOKUP_SET), name)
            if let id = setIDs[name] { nftnl_expr_set_u32(e, u16(NFTNL_EXPR_LOOKUP_SET_ID), id) }
            append(e)
        case .port(let t, let range, let d):
            need(protocolNumber(t))
            payload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: d == .source ? 0 : 2, length: 2)
            if range.low == range.high {
                cmp(NFT_CMP_EQ, be16(range.low))
            } else {
                cmp(NFT_CMP_GTE, be16(range.low))
                cmp(NFT_CMP_LTE, be16(range.high))
            }
        case .icmpv6(let type):
            need(.v6)
            need(UInt8(IPPROTO_ICMPV6))
            payload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 0, length: 1)
            cmp(NFT_CMP_EQ, [type.rawValue])
        }
    }

    private mutating func need(_ f: IPFamily) {
        guard family != f else { return }
        encode(.family(f))
    }

    private mutating func need(_ proto: UInt8) {
        guard l4proto != proto else { return }
        meta(NFT_META_L4PROTO)
        cmp(NFT_CMP_EQ, [proto])
        l4proto = proto
    }

    private func protocolNumber(_ t: Service.Transport) -> UInt8 {
        t == .udp ? UInt8(IPPROTO_UDP) : UInt8(IPPROTO_TCP)
    }

    private func addressOffset(_ f: IPFamily, _ d: AddressSide) -> UInt32 {
        switch (f, d) {
        case (.v4, .source): return 12
        case (.v4, .destination): return 16
        case (.v6, .source): return 8
        case (.v6, .destination): return 24
        }
    }

    // MARK: expression builders

    private func expr(_ name: String) -> OpaquePointer { nftnl_expr_alloc(name)! }

    private mutating func append(_ e: OpaquePointer) { expressions.append(e) }

    private mutating func meta(_ key: nft_meta_keys) {
        let e = expr("meta")
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_META_KEY), c32(key))
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_META_DREG), Self.reg1)
        append(e)
    }

    private mutating func payload(_ base: nft_payload_bases, offset: UInt32, length: Int) {
        let e = expr("payload")
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_PAYLOAD_DREG), Self.reg1)
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_PAYLOAD_BASE), c32(base))
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_PAYLOAD_OFFSET), offset)
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_PAYLOAD_LEN), UInt32(length))
        append(e)
    }

    private mutating func cmp(_ op: nft_cmp_ops, _ data: [UInt8]) {
        let e = expr("cmp")
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_CMP_SREG), Self.reg1)
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_CMP_OP), c32(op))
        data.withUnsafeBytes { _ = nftnl_expr_set(e, u16(NFTNL_EXPR_CMP_DATA), $0.baseAddress, UInt32($0.count)) }
        append(e)
    }

    private mutating func bitwise(mask: [UInt8], xor: [UInt8]) {
        let e = expr("bitwise")
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_BITWISE_SREG), Self.reg1)
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_BITWISE_DREG), Self.reg1)
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_BITWISE_LEN), UInt32(mask.count))
        mask.withUnsafeBytes { _ = nftnl_expr_set(e, u16(NFTNL_EXPR_BITWISE_MASK), $0.baseAddress, UInt32($0.count)) }
        xor.withUnsafeBytes { _ = nftnl_expr_set(e, u16(NFTNL_EXPR_BITWISE_XOR), $0.baseAddress, UInt32($0.count)) }
        append(e)
    }

    private mutating func verdict(_ code: Int32, chain: String? = nil) {
        let e = expr("immediate")
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_IMM_DREG), c32(NFT_REG_VERDICT))
        nftnl_expr_set_u32(e, u16(NFTNL_EXPR_IMM_VERDICT), UInt32(bitPattern: code))
        if let chain { nftnl_expr_set_str(e, u16(NFTNL_EXPR_IMM_CHAIN), chain) }
        append(e)
    }

    private func host32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
    private func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
}

/// C constants, imported as integers or as enum structs, in the widths libnftnl takes.
func u16<T: BinaryInteger>(_ v: T) -> UInt16 { UInt16(truncatingIfNeeded: v) }
func u16<T: RawRepresentable>(_ v: T) -> UInt16 where T.RawValue: BinaryInteger { UInt16(truncatingIfNeeded: v.rawValue) }
func c32<T: BinaryInteger>(_ v: T) -> UInt32 { UInt32(truncatingIfNeeded: v) }
func c32<T: RawRepresentable>(_ v: T) -> UInt32 where T.RawValue: BinaryInteger { UInt32(truncatingIfNeeded: v.rawValue) }

extension CIDR {
    /// The prefix's mask as `total` octets in network order.
    static func maskOctets(length: Int, total: Int) -> [UInt8] {
        (0..<total).map { i in
            let bits = max(0, min(8, length - 8 * i))
            return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }
}
