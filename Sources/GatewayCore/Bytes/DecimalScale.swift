/// Powers of ten and decimal scaling for register values, rollover moduli and unit conversions: the one home of the
/// ×10ⁿ arithmetic the native, CJ/T 188 and M-Bus records and the meter registry share.
enum DecimalScale {
    /// 10^exponent for exponent 0…19; 0 outside that range (no such register exists).
    @inline(__always)
    static func powerOfTen(_ exponent: Int) -> UInt64 {
        guard exponent >= 0 && exponent <= 19 else { return 0 }
        return wrappingScaled(1, by: exponent)
    }

    /// `value × 10^shift` with wrapping multiplication; a `shift` of zero or less returns `value`. For callers whose
    /// ranges make overflow impossible.
    @inline(__always)
    static func wrappingScaled(_ value: UInt64, by shift: Int) -> UInt64 {
        var result = value
        var remaining = shift
        while remaining > 0 {
            result &*= 10
            remaining -= 1
        }
        return result
    }

    /// `raw × 10^shift`, or `nil` on overflow or when a negative shift would drop non-zero digits.
    static func scaled(_ raw: Int64, by shift: Int) -> Int64? {
        var result = raw
        if shift >= 0 {
            for _ in 0..<shift {
                let (product, overflow) = result.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                result = product
            }
            return result
        }
        for _ in 0..<(-shift) {
            guard result % 10 == 0 else { return nil }
            result /= 10
        }
        return result
    }
}
