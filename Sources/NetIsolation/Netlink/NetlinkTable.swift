import Addressing
import CNFTables
#if canImport(Glibc)
import Glibc
#endif

/// Programs the `inet dnsbridge` table through libnftnl and libmnl, never by running `nft`.
/// Every change is one transaction: the table is created (so that deleting it cannot fail),
/// deleted, and built again with all its sets, elements, chains and rules. Debian 12's kernel has
/// no "destroy", hence add-then-delete. If the kernel rejects any message, none takes effect.
public enum NetlinkTable {
    public static func replace(with ruleset: Ruleset) -> Result<Void, NetlinkError> {
        let t = Transaction()
        addTable(t, object: "table inet dnsbridge")
        deleteTable(t)
        addTable(t, object: "table inet dnsbridge")
        var setIDs: [String: UInt32] = [:]
        for (i, set) in ruleset.sets.enumerated() {
            setIDs[set.name] = UInt32(i + 1)
            addSet(t, set, id: UInt32(i + 1))
        }
        for chain in ruleset.chains { addChain(t, chain) }
        for chain in ruleset.chains {
            for rule in chain.rules { addRule(t, rule, chain: chain.name, setIDs: setIDs) }
        }
        return t.commit()
    }

    public static func flush() -> Result<Void, NetlinkError> {
        let t = Transaction()
        addTable(t, object: "table inet dnsbridge")
        deleteTable(t)
        return t.commit()
    }

    private static func table() -> OpaquePointer {
        let table = nftnl_table_alloc()!
        nftnl_table_set_str(table, u16(NFTNL_TABLE_NAME), Ruleset.tableName)
        nftnl_table_set_u32(table, u16(NFTNL_TABLE_FAMILY), c32(NFPROTO_INET))
        return table
    }

    private static func addTable(_ t: Transaction, object: String) {
        let table = table()
        defer { nftnl_table_free(table) }
        t.add(NFT_MSG_NEWTABLE, flags: NLM_F_CREATE, object: object) { nftnl_table_nlmsg_build_payload($0, table) }
    }

    private static func deleteTable(_ t: Transaction) {
        let table = table()
        defer { nftnl_table_free(table) }
        t.add(NFT_MSG_DELTABLE, flags: 0, object: "removing the previous table inet dnsbridge") {
            nftnl_table_nlmsg_build_payload($0, table)
        }
    }

    private static func set(_ s: AddressSet, id: UInt32) -> OpaquePointer {
        let set = nftnl_set_alloc()!
        nftnl_set_set_str(set, u16(NFTNL_SET_TABLE), Ruleset.tableName)
        nftnl_set_set_str(set, u16(NFTNL_SET_NAME), s.name)
        nftnl_set_set_u32(set, u16(NFTNL_SET_FAMILY), c32(NFPROTO_INET))
        nftnl_set_set_u32(set, u16(NFTNL_SET_ID), id)
        return set
    }

    static func fill(_ set: OpaquePointer, _ s: AddressSet) {
        nftnl_set_set_u32(set, u16(NFTNL_SET_KEY_LEN), s.family == .v4 ? 4 : 16)
        nftnl_set_set_u32(set, u16(NFTNL_SET_KEY_TYPE), s.family == .v4 ? ipv4AddrType : ipv6AddrType)
        nftnl_set_set_u32(set, u16(NFTNL_SET_FLAGS), c32(NFT_SET_INTERVAL))
    }

    /// nft's datatype numbers for the key, which `nft list` uses to print the elements.
    private static let ipv4AddrType: UInt32 = 7, ipv6AddrType: UInt32 = 8

    private static func addSet(_ t: Transaction, _ s: AddressSet, id: UInt32) {
        let set = set(s, id: id)
        defer { nftnl_set_free(set) }
        fill(set, s)
        t.add(NFT_MSG_NEWSET, flags: NLM_F_CREATE, object: "set \(s.name)") { nftnl_set_nlmsg_build_payload($0, set) }

        let elements = intervalElements(s)
        var start = 0
        while start < elements.count {
            let chunk = elements[start..<min(start + 256, elements.count)]
            let carrier = self.set(s, id: id)
            defer { nftnl_set_free(carrier) }
            for e in chunk {
                let element = nftnl_set_elem_alloc()!
                e.key.withUnsafeBytes { _ = nftnl_set_elem_set(element, u16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
                if e.end { nftnl_set_elem_set_u32(element, u16(NFTNL_SET_ELEM_FLAGS), c32(NFT_SET_ELEM_INTERVAL_END)) }
                nftnl_set_elem_add(carrier, element)
            }
            t.add(NFT_MSG_NEWSETELEM, flags: NLM_F_CREATE, object: "elements of set \(s.name)") {
                nftnl_set_elems_nlmsg_build_payload($0, carrier)
            }
            start += chunk.count
        }
    }

    /// Intervals as the kernel's interval sets hold them: a start element, and an end element
    /// (flagged) one past the range's last address, unless the range reaches the top; and, as nft
    /// writes them, an end element at zero when the first range starts above it.
    static func intervalElements(_ s: AddressSet) -> [(key: [UInt8], end: Bool)] {
        var elements: [(key: [UInt8], end: Bool)] = []
        if let first = s.ranges.first, first.first != (s.family == .v4 ? .v4(0) : .v6(high: 0, low: 0)) {
            elements.append((key: [UInt8](repeating: 0, count: s.family == .v4 ? 4 : 16), end: true))
        }
        for r in s.ranges {
            elements.append((key: r.first.octets, end: false))
            if let after = AddressRanges.successor(r.last) { elements.append((key: after.octets, end: true)) }
        }
        return elements
    }

    private static func addChain(_ t: Transaction, _ c: FilterChain) {
        let chain = nftnl_chain_alloc()!
        defer { nftnl_chain_free(chain) }
        fill(chain, c)
        t.add(NFT_MSG_NEWCHAIN, flags: NLM_F_CREATE, object: "chain \(c.name)") { nftnl_chain_nlmsg_build_payload($0, chain) }
    }

    static func fill(_ chain: OpaquePointer, _ c: FilterChain) {
        nftnl_chain_set_str(chain, u16(NFTNL_CHAIN_TABLE), Ruleset.tableName)
        nftnl_chain_set_str(chain, u16(NFTNL_CHAIN_NAME), c.name)
        nftnl_chain_set_u32(chain, u16(NFTNL_CHAIN_FAMILY), c32(NFPROTO_INET))
        guard let hook = c.hook else { return }
        let number: UInt32
        switch hook.hook {
        case .prerouting: number = c32(NF_INET_PRE_ROUTING)
        case .input: number = c32(NF_INET_LOCAL_IN)
        case .output: number = c32(NF_INET_LOCAL_OUT)
        }
        nftnl_chain_set_u32(chain, u16(NFTNL_CHAIN_HOOKNUM), number)
        nftnl_chain_set_s32(chain, u16(NFTNL_CHAIN_PRIO), hook.priority.rawValue)
        nftnl_chain_set_str(chain, u16(NFTNL_CHAIN_TYPE), "filter")
        nftnl_chain_set_u32(chain, u16(NFTNL_CHAIN_POLICY), UInt32(NF_ACCEPT))
    }

    private static func addRule(_ t: Transaction, _ r: FilterRule, chain name: String, setIDs: [String: UInt32]) {
        let rule = makeRule(r, chain: name, setIDs: setIDs)
        defer { nftnl_rule_free(rule) }
        t.add(NFT_MSG_NEWRULE, flags: NLM_F_CREATE | NLM_F_APPEND, object: "rule \"\(r.comment)\" in chain \(name)") {
            nftnl_rule_nlmsg_build_payload($0, rule)
        }
    }

    /// The rule as libnftnl holds it, expressions and comment; the caller frees it.
    static func makeRule(_ r: FilterRule, chain name: String, setIDs: [String: UInt32]) -> OpaquePointer {
        let rule = nftnl_rule_alloc()!
        nftnl_rule_set_str(rule, u16(NFTNL_RULE_TABLE), Ruleset.tableName)
        nftnl_rule_set_str(rule, u16(NFTNL_RULE_CHAIN), name)
        nftnl_rule_set_u32(rule, u16(NFTNL_RULE_FAMILY), c32(NFPROTO_INET))
        var encoder = RuleEncoder(setIDs: setIDs)
        encoder.encode(r)
        for e in encoder.expressions { nftnl_rule_add_expr(rule, e) }  // the rule owns them now
        let udata = nftnl_udata_buf_alloc(256)!
        defer { nftnl_udata_buf_free(udata) }
        _ = nftnl_udata_put_strz(udata, UInt8(truncatingIfNeeded: c32(NFTNL_UDATA_RULE_COMMENT)), String(Comments.clean(r.comment)))
        _ = nftnl_rule_set_data(rule, u16(NFTNL_RULE_USERDATA), nftnl_udata_buf_data(udata), nftnl_udata_buf_len(udata))
        return rule
    }
}
