// Package draw draws an analysed network: the graph of its layers (or of
// its block instances) as SVG, Graphviz dot or a mermaid flowchart, bar
// charts of where the parameters, MACs and memory go, and the receptive
// field of one output unit on the input grid, theoretical (from calc) and
// effective (the input gradient, from exec's backward pass).
//
// The graph layout is its own, layered top to bottom (Place): convolutional
// networks are chains with branches that merge again (residual shortcuts,
// concat branches, U-Net skips), which a layered layout draws well, and a
// layout of our own keeps the binary small and the start instant, where
// Graphviz compiled to WebAssembly adds about 9 MB and runs 140 ms on a
// 427-node chain.
//
// draw imports calc, spec and exec; none of them imports draw.
package draw
