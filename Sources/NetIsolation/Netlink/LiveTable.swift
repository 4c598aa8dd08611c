import CNFTables
#if canImport(Glibc)
import Glibc
#endif

/// The table as the kernel holds it, read back through netlink, in the same canonical form the
/// expected table is put in, so `verify` compares like with like. A rule is its comment and its
/// expressions as libnftnl prints them, counters left out (their values are traffic, not
/// configuration).
struct TableImage: Equatable {
    struct Chain: Equatable {
        var name: String
        /// "hook N priority P policy X" for a base chain, "" for a regular one.
        var base: String
        var rules: [Rule]
    }

    struct Rule: Equatable {
        var comment: String
        var body: String
    }

    struct Set: Equatable {
        var name: String
        var shape: String
        /// Each element as "hex key" with " end" for an interval end, sorted.
        var elements: [String]
    }

    var chains: [Chain] = []
    var sets: [Set] = []
}

enum LiveTable {
    /// nil when the kernel has no such table.
    static func read() -> Result<TableImage?, NetlinkError> {
        var image = TableImage()
        var chainOrder: [String] = []
        var chains: [String: TableImage.Chain] = [:]
        let chainRead = Dump.run(NFT_MSG_GETCHAIN, what: "chains", build: { _ in }) { nlh in
            let c = nftnl_chain_alloc()!
            defer { nftnl_chain_free(c) }
            guard nftnl_chain_nlmsg_parse(nlh, c) == 0, String(cString: nftnl_chain_get_str(c, u16(NFTNL_CHAIN_TABLE))) == Ruleset.tableName
            else { return }
            let name = String(cString: nftnl_chain_get_str(c, u16(NFTNL_CHAIN_NAME)))
            chainOrder.append(name)
            chains[name] = TableImage.Chain(name: name, base: Image.base(c), rules: [])
        }
        if case .failure(let e) = chainRead { return .failure(e) }
        if chainOrder.isEmpty {
            // A table with no chains still counts as present: ask for it directly.
            switch tableExists() {
            case .failure(let e): return .failure(e)
            case .success(false): return .success(nil)
            case .success(true): break
            }
        }
        let ruleRead = rules { r in
            let chain = String(cString: nftnl_rule_get_str(r, u16(NFTNL_RULE_CHAIN)))
            chains[chain]?.rules.append(Image.rule(r))
        }
        if case .failure(let e) = ruleRead { return .failure(e) }
        image.chains = chainOrder.compactMap { chains[$0] }

        var setNames: [(String, String)] = []
        let setRead = Dump.run(NFT_MSG_GETSET, what: "sets", build: { nlh in
            let s = nftnl_set_alloc()!
            defer { nftnl_set_free(s) }
            nftnl_set_set_str(s, u16(NFTNL_SET_TABLE), Ruleset.tableName)
            nftnl_set_nlmsg_build_payload(nlh, s)
        }) { nlh in
            let s = nftnl_set_alloc()!
            defer { nftnl_set_free(s) }
            guard nftnl_set_nlmsg_parse(nlh, s) == 0 else { return }
            setNames.append((String(cString: nftnl_set_get_str(s, u16(NFTNL_SET_NAME))), Image.shape(s)))
        }
        if case .failure(let e) = setRead { return .failure(e) }
        for (name, shape) in setNames {
            var elements: [String] = []
            let elementRead = Dump.run(NFT_MSG_GETSETELEM, what: "elements of set \(name)", build: { nlh in
                let s = nftnl_set_alloc()!
                defer { nftnl_set_free(s) }
                nftnl_set_set_str(s, u16(NFTNL_SET_TABLE), Ruleset.tableName)
                nftnl_set_set_str(s, u16(NFTNL_SET_NAME), name)
                nftnl_set_elems_nlmsg_build_payload(nlh, s)
            }) { nlh in
                let s = nftnl_set_alloc()!
                defer { nftnl_set_free(s) }
                guard nftnl_set_elems_nlmsg_parse(nlh, s) == 0 else { return }
                elements += Image.elements(s)
            }
            if case .failure(let e) = elementRead { return .failure(e) }
            image.sets.append(TableImage.Set(name: name, shape: shape, elements: elements.sorted()))
        }
        return .success(image)
    }

    /// What each rule's counter has counted, rule by rule in table order.
    static func counters() -> Result<[RuleCounter], NetlinkError> {
        var out: [RuleCounter] = []
        let read = rules { r in
            let iter = nftnl_expr_iter_create(r)!
            defer { nftnl_expr_iter_destroy(iter) }
            while let e = nftnl_expr_iter_next(iter) {
                guard String(cString: nftnl_expr_get_str(e, u16(NFTNL_EXPR_NAME))) == "counter" else { continue }
                out.append(RuleCounter(chain: String(cString: nftnl_rule_get_str(r, u16(NFTNL_RULE_CHAIN))),
                                       comment: Image.comment(r), packets: nftnl_expr_get_u64(e, u16(NFTNL_EXPR_CTR_PACKETS)),
                                       bytes: nftnl_expr_get_u64(e, u16(NFTNL_EXPR_CTR_BYTES))))
            }
        }
        return read.map { out }
    }

    /// Every rule of the table, parsed, handed to `each` (which must not keep it).
    private static func rules(_ each: (OpaquePointer) -> Void) -> Result<Void, NetlinkError> {
        Dump.run(NFT_MSG_GETRULE, what: "rules", build: { nlh in
            let r = nftnl_rule_alloc()!
            defer { nftnl_rule_free(r) }
            nftnl_rule_set_str(r, u16(NFTNL_RULE_TABLE), Ruleset.tableName)
            nftnl_rule_nlmsg_build_payload(nlh, r)
        }) { nlh in
            let r = nftnl_rule_alloc()!
            defer { nftnl_rule_free(r) }
            guard nftnl_rule_nlmsg_parse(nlh, r) == 0 else { return }
            each(r)
        }
    }

    private static func tableExists() -> Result<Bool, NetlinkError> {
        var found = false
        let r = Dump.run(NFT_MSG_GETTABLE, what: "tables", build: { _ in }) { nlh in
            let t = nftnl_table_alloc()!
            defer { nftnl_table_free(t) }
            if nftnl_table_nlmsg_parse(nlh, t) == 0, String(cString: nftnl_table_get_str(t, u16(NFTNL_TABLE_NAME))) == Ruleset.tableName {
                found = true
            }
        }
        return r.map { found }
    }
}

/// The canonical text of libnftnl objects, shared by the live and the expected side.
enum Image {
    static func base(_ c: OpaquePointer) -> String {
        guard nftnl_chain_is_set(c, u16(NFTNL_CHAIN_HOOKNUM)) else { return "" }
        let type = nftnl_chain_is_set(c, u16(NFTNL_CHAIN_TYPE)) ? String(cString: nftnl_chain_get_str(c, u16(NFTNL_CHAIN_TYPE))) : "?"
        return "type \(type) hook \(nftnl_chain_get_u32(c, u16(NFTNL_CHAIN_HOOKNUM))) priority \(nftnl_chain_get_s32(c, u16(NFTNL_CHAIN_PRIO))) policy \(nftnl_chain_get_u32(c, u16(NFTNL_CHAIN_POLICY)))"
    }

    static func rule(_ r: OpaquePointer) -> TableImage.Rule {
        var body: [String] = []
        let iter = nftnl_expr_iter_create(r)!
        defer { nftnl_expr_iter_destroy(iter) }
        var buffer = [CChar](repeating: 0, count: 1024)
        while let e = nftnl_expr_iter_next(iter) {
            let name = String(cString: nftnl_expr_get_str(e, u16(NFTNL_EXPR_NAME)))
            if name == "counter" { body.append("counter"); continue }
            // The kernel reports a lookup's flags even when zero; say zero on both sides.
            if name == "lookup" && !nftnl_expr_is_set(e, u16(NFTNL_EXPR_LOOKUP_FLAGS)) {
                nftnl_expr_set_u32(e, u16(NFTNL_EXPR_LOOKUP_FLAGS), 0)
            }
            _ = nftnl_expr_snprintf(&buffer, buffer.count, e, c32(NFTNL_OUTPUT_DEFAULT), 0)
            body.append("\(name) \(String(cString: buffer))")
        }
        return TableImage.Rule(comment: comment(r), body: body.joined(separator: "; "))
    }

    private final class Found { var text = "" }

    static func comment(_ r: OpaquePointer) -> String {
        guard nftnl_rule_is_set(r, u16(NFTNL_RULE_USERDATA)) else { return "" }
        var length: UInt32 = 0
        guard let data = nftnl_rule_get_data(r, u16(NFTNL_RULE_USERDATA), &length) else { return "" }
        let found = Found()
        let context = Unmanaged.passUnretained(found).toOpaque()
        _ = nftnl_udata_parse(data, length, { attr, ctx in
            guard let attr, let ctx else { return 0 }
            if nftnl_udata_type(attr) == UInt8(truncatingIfNeeded: c32(NFTNL_UDATA_RULE_COMMENT)),
               let value = nftnl_udata_get(attr) {
                let bytes = UnsafeRawBufferPointer(start: value, count: Int(nftnl_udata_len(attr)))
                Unmanaged<Found>.fromOpaque(ctx).takeUnretainedValue().text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            return 0
        }, context)
        return found.text
    }

    static func shape(_ s: OpaquePointer) -> String {
        "key type \(nftnl_set_get_u32(s, u16(NFTNL_SET_KEY_TYPE))) length \(nftnl_set_get_u32(s, u16(NFTNL_SET_KEY_LEN))) flags \(nftnl_set_get_u32(s, u16(NFTNL_SET_FLAGS)))"
    }

    static func elements(_ s: OpaquePointer) -> [String] {
        var out: [String] = []
        let iter = nftnl_set_elems_iter_create(s)!
        defer { nftnl_set_elems_iter_destroy(iter) }
        while let e = nftnl_set_elems_iter_next(iter) {
            var length: UInt32 = 0
            let key = nftnl_set_elem_get(e, u16(NFTNL_SET_ELEM_KEY), &length)
            let bytes = key.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? []
            let flags = nftnl_set_elem_is_set(e, u16(NFTNL_SET_ELEM_FLAGS)) ? nftnl_set_elem_get_u32(e, u16(NFTNL_SET_ELEM_FLAGS)) : 0
            out.append(element(bytes, end: flags & c32(NFT_SET_ELEM_INTERVAL_END) != 0))
        }
        return out
    }

    static func element(_ key: [UInt8], end: Bool) -> String {
        key.map { String($0, radix: 16).leftPadded(2) }.joined() + (end ? " end" : "")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
