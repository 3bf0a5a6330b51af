extension PCMachine {
    /// The monitor's `info network`: each card and its user network, as a pair of lines.
    public var networkDescriptions: [String] { networkCards.descriptions }
}
