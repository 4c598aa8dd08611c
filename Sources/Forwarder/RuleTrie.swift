import DNSWire

/// The most-specific-rule index: a trie over names read from the root label down
/// (`www.corp.example` is walked `example` → `corp` → `www`), stored as flat arrays with one
/// open-addressing hash table keyed by (parent node, label). A lookup costs one hash probe per
/// label of the query, whatever the number of rules, and allocates nothing.
///
/// Each node may carry several bindings (rule index, endpoint set): the same domain may have a
/// different rule on different endpoints. Endpoint sets are interned bitsets; set 0 means
/// "every endpoint".
public struct RuleTrie: Sendable {
    /// One node: everything a lookup reads about it sits in one 16-byte record, so a probe costs
    /// one cache line for the node (plus the label bytes) — a lookup over a million rules is
    /// bound by cache misses, not instructions.
    private struct Node {
        var parent: UInt32
        var labelStart: UInt32
        var firstBinding: Int32
        var labelLength: UInt8
        /// Lets a lookup stop at a leaf without probing the table for a child that is not there.
        var hasChildren: Bool
    }

    /// Node 0 is the root.
    private var nodes: [Node] = [Node(parent: 0, labelStart: 0, firstBinding: -1, labelLength: 0, hasChildren: false)]
    /// Labels of all nodes, lower-cased, back to back.
    private var arena: [UInt8] = []

    // Binding columns: a singly linked list per node.
    private var bindingRule: [Int32] = []
    private var bindingSet: [UInt32] = []
    private var bindingNext: [Int32] = []

    /// Endpoint-set bitsets; index 0 is the empty bitset that stands for "all endpoints".
    private var endpointSets: [[UInt64]] = [[]]
    private var endpointSetIndex: [[UInt64]: UInt32] = [[]: 0]

    /// Open addressing, linear probing. A slot holds node index + 1 (0 is empty) and the high
    /// 32 bits of the hash, so most non-matching slots are passed over without touching the node.
    private struct Slot {
        var node: UInt32
        var tag: UInt32
    }
    private var slots: [Slot] = Array(repeating: Slot(node: 0, tag: 0), count: 16)

    public init() {}

    public var nodeCount: Int { nodes.count }
    public var bindingCount: Int { bindingRule.count }

    /// Adds a binding of `rule` at `domain`, applying to `endpoints` (nil: all).
    public mutating func insert(_ domain: DNSName, rule: Int32, endpoints: [Int]?) {
        let set = internSet(endpoints)
        let wire = domain.wire
        var labelOffsets: [Int] = []
        var i = 0
        while i < wire.count { labelOffsets.append(i); i += Int(wire[i]) + 1 }
        var node: UInt32 = 0
        for start in labelOffsets.reversed() {
            let n = Int(wire[start])
            node = wire.withUnsafeBytes { raw in
                childOrInsert(of: node, label: UnsafeRawBufferPointer(rebasing: raw[(start + 1)..<(start + 1 + n)]))
            }
        }
        bindingRule.append(rule)
        bindingSet.append(set)
        bindingNext.append(nodes[Int(node)].firstBinding)
        nodes[Int(node)].firstBinding = Int32(bindingRule.count - 1)
    }

    /// The most specific rule that applies to `endpoint` for a name given as uncompressed wire
    /// labels (`DNSName.wire`, or the question name straight from a packet, root octet optional).
    /// Returns nil when no rule applies.
    @inlinable public func longestMatch(_ name: DNSName, endpoint: Int) -> Int32? {
        name.wire.withUnsafeBytes { longestMatch(wire: $0, endpoint: endpoint) }
    }

    public func longestMatch(wire: UnsafeRawBufferPointer, endpoint: Int) -> Int32? {
        // 256 bytes of label offsets: small enough to live on the stack (a larger temporary
        // allocation would go to the heap on every lookup).
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 128) { offsets -> Int32? in
            var count = 0
            var i = 0
            while i < wire.count, wire[i] != 0 {
                let next = i + Int(wire[i]) + 1
                guard wire[i] <= 63, next <= wire.count, count < 128 else { return nil }
                offsets[count] = UInt16(i)
                count += 1
                i = next
            }
            var best = ruleFor(node: 0, endpoint: endpoint)
            var node: UInt32 = 0
            var k = count - 1
            while k >= 0, nodes[Int(node)].hasChildren {
                let start = Int(offsets[k])
                let n = Int(wire[start])
                guard let child = child(of: node, label: UnsafeRawBufferPointer(rebasing: wire[(start + 1)..<(start + 1 + n)])) else {
                    break
                }
                node = child
                if let r = ruleFor(node: node, endpoint: endpoint) { best = r }
                k -= 1
            }
            return best
        }
    }

    /// For `explain`: every suffix of `name` from the name itself up to the root, with the rules
    /// bound there (each with its endpoint list, nil meaning all).
    public func candidates(_ name: DNSName) -> [(suffix: DNSName, rules: [Int32])] {
        var suffixes: [DNSName] = []
        var s = name
        while true {
            suffixes.append(s)
            if s.isRoot { break }
            s = s.parent
        }
        var out: [(DNSName, [Int32])] = []
        var node: UInt32? = 0
        for suffix in suffixes.reversed() {
            if !suffix.isRoot, let current = node {
                let label = Array(suffix.labels[0])
                node = label.withUnsafeBytes { child(of: current, label: $0) }
            }
            var rules: [Int32] = []
            if let n = node {
                var b = nodes[Int(n)].firstBinding
                while b >= 0 { rules.append(bindingRule[Int(b)]); b = bindingNext[Int(b)] }
            }
            out.append((suffix, rules.reversed()))
        }
        return out.reversed()
    }

    /// The rule bound at `node` that applies to `endpoint`, if any.
    @inline(__always) private func ruleFor(node: UInt32, endpoint: Int) -> Int32? {
        var b = nodes[Int(node)].firstBinding
        while b >= 0 {
            let set = bindingSet[Int(b)]
            if set == 0 { return bindingRule[Int(b)] }
            let words = endpointSets[Int(set)]
            let w = endpoint >> 6
            if w < words.count, words[w] & (1 << UInt64(endpoint & 63)) != 0 { return bindingRule[Int(b)] }
            b = bindingNext[Int(b)]
        }
        return nil
    }

    private mutating func internSet(_ endpoints: [Int]?) -> UInt32 {
        guard let endpoints else { return 0 }
        var words: [UInt64] = []
        for e in endpoints {
            while words.count <= e >> 6 { words.append(0) }
            words[e >> 6] |= 1 << UInt64(e & 63)
        }
        if words.isEmpty { words = [0] }  // names no endpoint: distinct from "all"
        if let existing = endpointSetIndex[words] { return existing }
        endpointSets.append(words)
        let index = UInt32(endpointSets.count - 1)
        endpointSetIndex[words] = index
        return index
    }

    // MARK: hash table

    @inline(__always) private static func hash(parent: UInt32, label: UnsafeRawBufferPointer) -> UInt64 {
        // FNV-1a over the parent index and the lower-cased label.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(parent)
        h = h &* 0x0000_0100_0000_01B3
        for b in label {
            h ^= UInt64(asciiLower(b))
            h = h &* 0x0000_0100_0000_01B3
        }
        return h ^ (h >> 29)
    }

    @inline(__always) private func labelEquals(_ node: Node, _ label: UnsafeRawBufferPointer) -> Bool {
        let n = Int(node.labelLength)
        guard n == label.count else { return false }
        let start = Int(node.labelStart)
        for j in 0..<n where arena[start + j] != asciiLower(label[j]) { return false }
        return true
    }

    private func child(of node: UInt32, label: UnsafeRawBufferPointer) -> UInt32? {
        let mask = slots.count - 1
        let h = Self.hash(parent: node, label: label)
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s.node == 0 { return nil }
            if s.tag == tag {
                let candidate = nodes[Int(s.node - 1)]
                if candidate.parent == node, labelEquals(candidate, label) { return s.node - 1 }
            }
            i = (i + 1) & mask
        }
    }

    private mutating func childOrInsert(of node: UInt32, label: UnsafeRawBufferPointer) -> UInt32 {
        if let existing = child(of: node, label: label) { return existing }
        if (nodes.count + 1) * 10 > slots.count * 7 { grow() }
        let index = UInt32(nodes.count)
        nodes.append(Node(parent: node, labelStart: UInt32(arena.count), firstBinding: -1, labelLength: UInt8(label.count),
                          hasChildren: false))
        nodes[Int(node)].hasChildren = true
        for b in label { arena.append(asciiLower(b)) }
        place(index, hash: Self.hash(parent: node, label: label))
        return index
    }

    private mutating func place(_ index: UInt32, hash: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i].node != 0 { i = (i + 1) & mask }
        slots[i] = Slot(node: index + 1, tag: UInt32(truncatingIfNeeded: hash >> 32))
    }

    private mutating func grow() {
        slots = Array(repeating: Slot(node: 0, tag: 0), count: slots.count * 2)
        for n in 1..<nodes.count {
            let node = nodes[n]
            let start = Int(node.labelStart), length = Int(node.labelLength)
            let h = arena.withUnsafeBytes {
                Self.hash(parent: node.parent, label: UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)]))
            }
            place(UInt32(n), hash: h)
        }
    }
}
