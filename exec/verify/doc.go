// Package verify holds exec's independent checks of calc: CrossCheck runs a
// network and compares every node's executed shape and the MACs its
// kernels performed with calc's numbers, and MeasureRF measures receptive
// fields by walking a one-channel probe copy of the network backward from
// the units measured (exec's support sweep, the adjoint of impulse images
// sent forward), never by calc's formulas. It sits above exec and uses
// only exec's public API.
package verify
