import Addressing

/// Prefix lists as the disjoint, sorted ranges an interval set holds. Overlapping and adjacent
/// prefixes are merged: the kernel rejects overlapping intervals, and nft would merge adjacent
/// ones, so `plan` and `apply` must produce the same elements.
enum AddressRanges {
    static func merge(_ prefixes: [CIDR]) -> [AddressRange] {
        let sorted = prefixes.map(range(of:)).sorted { $0.first < $1.first }
        var merged: [AddressRange] = []
        for r in sorted {
            if let last = merged.last, let next = successor(last.last), !(next < r.first) {
                if last.last < r.last { merged[merged.count - 1].last = r.last }
            } else if let last = merged.last, successor(last.last) == nil {
                continue  // the previous range already reaches the top of the space
            } else {
                merged.append(r)
            }
        }
        return merged
    }

    static func range(of p: CIDR) -> AddressRange {
        switch p.network {
        case .v4(let v):
            let host: UInt32 = p.prefixLength >= 32 ? 0 : ~UInt32(0) >> UInt32(p.prefixLength)
            return AddressRange(first: .v4(v), last: .v4(v | host))
        case .v6(let h, let l):
            let n = p.prefixLength
            let hostHigh: UInt64 = n >= 64 ? 0 : ~UInt64(0) >> UInt64(n)
            let hostLow: UInt64 = n <= 64 ? ~0 : (n >= 128 ? 0 : ~UInt64(0) >> UInt64(n - 64))
            return AddressRange(first: .v6(high: h, low: l), last: .v6(high: h | hostHigh, low: l | hostLow))
        }
    }

    /// The next address, nil past the top of the family's space.
    static func successor(_ a: IPAddress) -> IPAddress? {
        switch a {
        case .v4(let v): return v == .max ? nil : .v4(v + 1)
        case .v6(let h, let l):
            if l != .max { return .v6(high: h, low: l + 1) }
            return h == .max ? nil : .v6(high: h + 1, low: 0)
        }
    }

    /// The range written as one prefix when it is exactly one, for nft syntax.
    static func asPrefix(_ r: AddressRange) -> CIDR? {
        let bits = r.first.isV4 ? 32 : 128
        for length in 0...bits {
            let p = CIDR(network: r.first, prefixLength: length)
            if p.network == r.first, range(of: p) == r { return p }
        }
        return nil
    }
}
