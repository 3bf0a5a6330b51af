extension PCMachine {
    /// Thread-safe: the ACPI power button pressed for the guest (the
    /// monitor's system_powerdown); raises POWERDOWN. Whether the guest then
    /// shuts down is its own choice.
    public func pressPowerButton() {
        loop.post { [unowned self] in powerManagement.pressPowerButton() }
        loop.events.fire(.powerdown)
    }
}
