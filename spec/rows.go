package spec

import "errors"

// Row is one row of a summary by depth, as torchinfo's depth prints it: a
// layer, or a block use or repeat whose layers are summed in it.
type Row struct {
	// Depth is 1 for a top-level item, 2 for an item inside a block use
	// or repeat at depth 1, and so on.
	Depth int
	// Group is the index in Spec.Groups of the row's group, -1 for a
	// layer.
	Group int
	// Node is the layer's index in Net.Nodes; for a group, the node whose
	// output it gives (Group.Out).
	Node int
	// First and End are the nodes the row covers: Node alone for a layer,
	// the group's nodes for a group.
	First, End int
	// Open says the group's items follow as rows of their own (its depth
	// is below the summary's); a closed group stands for all its nodes.
	Open bool
	// Params, Buffers, MACs and Bytes are the sums over the nodes covered.
	// A sum is at most the network's total, which calc checked for
	// overflow.
	Params, Buffers, MACs, Bytes int64
}

// ErrGroupsCut says a spec holds more block uses and repeats than a
// summary by depth follows (MaxLayers).
var ErrGroupsCut = errors.New("the spec uses blocks and repeats more than 100,000 times: too many to group by depth")

// Rows returns the rows of a summary to depth (1 or more): every layer and
// group at that depth or above, in network order, each group's items under
// it while it is above depth. A group's row comes before its items'.
func (a *Analysis) Rows(depth int) ([]Row, error) {
	s := a.Spec
	if s.GroupsCut {
		return nil, ErrGroupsCut
	}
	var rows []Row
	// g is the next group to meet, in start order: the groups nested in a
	// range come right after the group holding it.
	g := 0
	var walk func(first, end, level int)
	walk = func(first, end, level int) {
		for i := first; i < end; {
			if g < len(s.Groups) && s.Groups[g].First == i && s.Groups[g].End <= end {
				gr := &s.Groups[g]
				r := Row{Depth: level, Group: g, Node: gr.Out, First: gr.First, End: gr.End, Open: level < depth}
				a.sum(&r)
				rows = append(rows, r)
				g++
				if r.Open {
					walk(gr.First, gr.End, level+1)
				} else {
					// Skip the groups inside this one.
					for g < len(s.Groups) && s.Groups[g].First < gr.End {
						g++
					}
				}
				i = gr.End
				continue
			}
			r := Row{Depth: level, Group: -1, Node: i, First: i, End: i + 1}
			a.sum(&r)
			rows = append(rows, r)
			i++
		}
	}
	walk(0, len(a.Net.Nodes), 1)
	return rows, nil
}

// sum adds up the layers a row covers.
func (a *Analysis) sum(r *Row) {
	for _, l := range a.Result.Layers[r.First:r.End] {
		r.Params += l.Params
		r.Buffers += l.Buffers
		r.MACs += l.MACs
		r.Bytes += l.Bytes
	}
}
