import CX87Host

/// Moves a guest FPU into and out of the host's x87, for code that runs
/// guest x87 instructions on the host directly: the image is the 108-byte
/// FNSAVE/FRSTOR layout of 32-bit protected mode (`X87EnvironmentLayout.protected32`).
public enum X87HostResidence {
    /// FNSAVE into `image`; the host FPU is left initialised.
    @inline(never)
    public static func save(to image: UnsafeMutableRawPointer) { x87h_save_image(image) }

    /// FRSTOR from `image`: the host FPU now holds the guest's state.
    @inline(never)
    public static func load(from image: UnsafeRawPointer) { x87h_load_image(image) }
}
