"""plugins/synapses."""
