import CX87Host

/// FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ in encoding order (D9 E8-EE).
public enum X87Constant: Int32, Sendable {
    case one, log2Ten, log2E, pi, log10Two, lnTwo, zero
}

/// Loads (FLD, FILD, FBLD, constants) and stores (FST, FIST, FISTTP, FBSTP).
/// Memory values travel as integers holding their little-endian bytes; the
/// 10-byte ones (m80 real, packed BCD) as an `X87Register` holding the raw bytes.
extension X87State {
    /// FLD ST(i).
    /// An empty source is reported (as underflow) before a full stack.
    public mutating func load(st i: Int) {
        if isEmpty(st: i) {
            if stackFault(overflow: false) { push(.indefinite) }
            return
        }
        guard isEmpty(st: 7) else {
            if stackFault(overflow: true) { push(.indefinite) }
            return
        }
        push(self[st: i])
        clearC1()
    }

    /// FLD m80: no conversion, so no numeric exception.
    public mutating func load(extended value: X87Register) {
        guard isEmpty(st: 7) else {
            if stackFault(overflow: true) { push(.indefinite) }
            return
        }
        push(value)
        clearC1()
    }

    public mutating func load(float32 value: UInt32) {
        pushFromHost { cw, r in x87h_load_f32(cw, value, &r) }
    }

    public mutating func load(float64 value: UInt64) {
        pushFromHost { cw, r in x87h_load_f64(cw, value, &r) }
    }

    /// FILD m16/m32/m64 (sign-extend the smaller ones).
    public mutating func load(integer value: Int64) {
        pushFromHost { cw, r in x87h_load_int(cw, value, &r) }
    }

    /// FBLD m80.
    public mutating func load(bcd value: X87Register) {
        var bcd = value
        pushFromHost { cw, r in x87h_load_bcd(cw, &bcd, &r) }
    }

    public mutating func load(_ constant: X87Constant) {
        pushFromHost { cw, r in x87h_load_constant(constant.rawValue, cw, &r) }
    }

    @inline(__always)
    private mutating func pushFromHost(_ host: (X87HostWords, inout X87Register) -> UInt16) {
        guard isEmpty(st: 7) else {
            if stackFault(overflow: true) { push(.indefinite) }
            return
        }
        var result = X87Register()
        let status = host(hostWords, &result)
        if absorb(status, aborting: Self.abortsLoad) { push(result) }
    }

    /// FST/FSTP ST(i).
    public mutating func store(st i: Int, pop: Bool) {
        if isEmpty(st: 0) {
            if stackFault(overflow: false) {
                write(st: i, .indefinite)
                if pop { self.pop() }
            }
            return
        }
        write(st: i, self[st: 0])
        clearC1()
        if pop { self.pop() }
    }

    /// FSTP m80. Returns nil when memory must not be written.
    public mutating func storeExtended() -> X87Register? {
        var value = self[st: 0]
        if isEmpty(st: 0) {
            guard stackFault(overflow: false) else { return nil }
            value = .indefinite
        } else {
            clearC1()
        }
        pop()
        return value
    }

    /// FST/FSTP m32. Returns nil when memory must not be written.
    public mutating func storeFloat32(pop: Bool) -> UInt32? {
        var out: UInt32 = 0
        return storeThroughHost(pop: pop, out: &out) { cw, a, o in x87h_store_f32(cw, &a, &o) }
    }

    /// FST/FSTP m64.
    public mutating func storeFloat64(pop: Bool) -> UInt64? {
        var out: UInt64 = 0
        return storeThroughHost(pop: pop, out: &out) { cw, a, o in x87h_store_f64(cw, &a, &o) }
    }

    /// FIST/FISTP (rounded per RC) or FISTTP (`truncate`), `width` 16, 32 or 64
    /// bits; the result is sign-extended to 64 bits (store its low `width` bits).
    public mutating func storeInteger(width: Int, truncate: Bool, pop: Bool) -> Int64? {
        var out: Int64 = 0
        let bits = Int32(width)
        if truncate {
            return storeThroughHost(pop: pop, out: &out) { cw, a, o in x87h_store_int_trunc(bits, cw, &a, &o) }
        }
        return storeThroughHost(pop: pop, out: &out) { cw, a, o in x87h_store_int(bits, cw, &a, &o) }
    }

    /// FBSTP m80.
    public mutating func storeBCD() -> X87Register? {
        var out = X87Register()
        return storeThroughHost(pop: true, out: &out) { cw, a, o in x87h_store_bcd(cw, &a, &o) }
    }

    /// Converts ST(0) into `out` on the host. An empty ST(0) with IE masked
    /// stores the conversion of the QNaN indefinite (the format's indefinite).
    @inline(__always)
    private mutating func storeThroughHost<T>(pop: Bool, out: inout T,
                                              _ host: (X87HostWords, inout X87Register, inout T) -> UInt16) -> T? {
        if isEmpty(st: 0) {
            guard stackFault(overflow: false) else { return nil }
            var indefinite = X87Register.indefinite
            _ = host(X87HostWords(control: controlWord | X87Bits.exceptions, status: 0), &indefinite, &out)
            if pop { self.pop() }
            return out
        }
        var a = self[st: 0]
        let status = host(hostWords, &a, &out)
        guard absorb(status, aborting: Self.abortsStore) else { return nil }
        if pop { self.pop() }
        return out
    }
}
