package spec

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cnncalc/cnncalc/calc"
	"go.yaml.in/yaml/v3"
)

// Caps that keep a hostile file from taking the machine down.
const (
	// MaxFileSize is the largest spec file read, in bytes.
	MaxFileSize = 4 << 20
	// MaxLayers is the most plain layers and merges a spec may expand to.
	MaxLayers = 100_000
	// MaxDepth is the deepest nesting of composite items and block uses.
	MaxDepth = 64
	// maxErrors bounds the errors collected before the walk stops.
	maxErrors = 1000
	// maxVisits bounds the YAML nodes walked, aliases followed included.
	maxVisits = 4_000_000
)

// NodeInfo says where a calc node came from.
type NodeInfo struct {
	Pos  Pos
	Path string
	// Item is the item's name: if given, else its type.
	Item string
	// Args holds the position of each argument as written (canonical names).
	Args []ArgPos
	// Instance is the innermost block use or repeat iteration the node
	// was expanded in, nil for a node of the top-level layers: list. Nodes
	// of one instance share the pointer, so it tells instances apart where
	// Path does not (every iteration of a repeat has the same Path).
	Instance *Instance
}

// Instance is one block use or one iteration of a repeat (Group is one
// block use or one whole repeat, with its node range).
type Instance struct {
	// Parent is the enclosing instance, nil at the top level.
	Parent *Instance
	// Block is the block's name; "" for a repeat iteration.
	Block string
	// Path is where the block is used or the repeat stands, as in
	// NodeInfo.Path: layers[4], blocks.dense_block.layers[0] (in layers[4]).
	Path string
	// Iter is the repeat iteration, from 0; 0 for a block use.
	Iter int
	// Depth is 1 for a group of the top-level list, 2 inside it, and so on.
	Depth int
}

// At returns g's enclosing group at depth d (g itself when g.Depth <= d),
// nil for a nil g.
func (g *Instance) At(d int) *Instance {
	for g != nil && g.Depth > d {
		g = g.Parent
	}
	return g
}

// Group is one block use or one repeat of the spec, as expanded. It holds
// the nodes First to End-1 of Net: items expand in order, so a group's
// nodes are contiguous, and a group inside it holds a part of them.
type Group struct {
	// Parent is the index in Spec.Groups of the enclosing group, -1 for a
	// top-level item.
	Parent int
	// Kind is "block" (a block use) or "repeat".
	Kind string
	// Item is the item's name: if given, else the block's name, or
	// "repeat".
	Item string
	// Block is the block used ("" for a repeat); Count a repeat's count.
	Block string
	Count int64
	// Path and Pos locate the item, as NodeInfo's do.
	Path string
	Pos  Pos
	// In is the node whose output feeds the group (calc.Input for the
	// network input); Out the node whose output it gives.
	In, Out    int
	First, End int
}

// ArgPos is where an argument's value stands.
type ArgPos struct {
	Name string
	Pos
}

// Expect is an expected output shape on an item; -1 is the ~ wildcard.
type Expect struct {
	Node  int // index into Network.Nodes, or calc.Input
	Shape []int64
	Pos   Pos
	Path  string
	Item  string
	// item is the item as written (its mapping), for Snapshot.
	item *yaml.Node
}

// ExpectedTotals are the whole-network expectations of the top-level expect:.
type ExpectedTotals struct {
	Output                *[]int64
	Params, Buffers, MACs *int64
	Pos                   map[string]Pos
}

// Spec is a parsed network spec.
type Spec struct {
	File string
	// Source is the file's text, for quoting lines in diagnostics.
	Source []byte
	// Net is the expanded network. Net.Input includes the batch axis.
	Net calc.Network
	// Batch is the spec's batch: (1 when absent).
	Batch int64
	// Info has one entry per node of Net.
	Info []NodeInfo
	// Groups are the block uses and repeats that made at least one node,
	// in the order they start (an enclosing group before the groups in it).
	Groups []Group
	// GroupsCut says Groups stopped at MaxLayers: later uses are left out.
	GroupsCut bool
	Expects   []Expect
	Totals    ExpectedTotals
	// InputPos is where input: stands (for errors about the input).
	InputPos Pos

	root *yaml.Node // the top-level mapping, for Snapshot
	// instances records every item instance (an item of a block or a
	// repeat has one per use or iteration) in order, for Snapshot.
	instances []itemInstance
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// Parse reads a spec. The error, if any, is an ErrorList.
func Parse(file string, data []byte) (*Spec, error) {
	return parse(file, data, &work{})
}

// work counts what a parse did, so that tests can bound it (a hostile
// file must end in an error after little work, not merely soon).
type work struct {
	read    int // bytes the YAML decoder took in
	visits  int // YAML nodes walked, aliases followed included
	aliases int // alias hops followed by those walks
	// expanded counts items expanded: each item once per block use and
	// repeat turn that reaches it.
	expanded int
	turns    int // repeat iterations run
	added    int // calc nodes added
	// stopped is set once a cap is hit, to end the walk quickly.
	stopped bool
	// fault, when set, is called as parsing starts (tests make it panic).
	fault func()
}

// parse is Parse, counting its work in w.
func parse(file string, data []byte, w *work) (s *Spec, err error) {
	r := bytes.NewReader(nil)
	defer func() {
		w.read = int(r.Size()) - r.Len()
		if r := recover(); r != nil {
			ie := &InternalError{Value: r, Stack: debug.Stack()}
			s, err = nil, ErrorList{{File: file, Msg: ie.Error(), Err: ie}}
		}
	}()
	if w.fault != nil {
		w.fault()
	}
	if len(data) > MaxFileSize {
		return nil, ErrorList{{File: file, Msg: fmt.Sprintf("file is %s bytes, above the limit of %s bytes", calc.Group(int64(len(data))), calc.Group(MaxFileSize))}}
	}
	var doc yaml.Node
	r.Reset(data)
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, yamlError(file, data, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		if err != nil {
			return nil, yamlError(file, data, err)
		}
		return nil, ErrorList{{File: file, Pos: Pos{next.Line, next.Column}, Msg: "a second YAML document; a spec file holds one"}}
	}
	p := &parser{file: file, spec: &Spec{File: file, Source: data, Batch: 1}, work: w}
	// Most items take a line: size the node list once rather than grow it.
	lines := min(bytes.Count(data, []byte("\n"))+1, MaxLayers)
	p.nodes = make([]calc.Node, 0, lines)
	p.info = make([]NodeInfo, 0, lines)
	p.spec.Net.Name = ""
	p.top(&doc)
	if len(p.errs) > 0 {
		return nil, p.errs.Err()
	}
	p.spec.Net.Nodes = p.nodes
	p.spec.Info = p.info
	p.spec.Groups = p.groups
	p.nameNodes()
	return p.spec, nil
}

func yamlError(file string, data []byte, err error) ErrorList {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d := &Diagnostic{File: file, Pos: Pos{line, 1}, Msg: "YAML: " + m[2]}
		yamlHint(d, data)
		return ErrorList{d}
	}
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if msg == "EOF" {
		return ErrorList{{File: file, Msg: "YAML: the file is empty"}}
	}
	// yaml.v3 leaves the line out of errors on the first line, of reader
	// errors (bad bytes) and of unknown anchors: find it in the data.
	return ErrorList{{File: file, Pos: yamlErrorPos(data, msg), Msg: "YAML: " + msg}}
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// yamlErrorPos guesses the position of a yaml.v3 error that has no line:
// the alias of an unknown anchor, else the first byte yaml.v3's reader
// rejects, else the first line (where yaml.v3 omits the line number).
func yamlErrorPos(data []byte, msg string) Pos {
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			return offsetPos(data, i)
		}
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if (r == utf8.RuneError && size == 1) || !yamlPrintable(r) {
			return offsetPos(data, i)
		}
		i += size
	}
	return Pos{1, 1}
}

// yamlPrintable is YAML's set of characters allowed in a stream.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return false
	case r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
		return false
	}
	return true
}

// offsetPos turns a byte offset into a line and a column (in runes).
func offsetPos(data []byte, off int) Pos {
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return Pos{line, 1 + utf8.RuneCount(data[start:off])}
}

type parser struct {
	// scratch is the layer build fills before it is copied into nodes.
	scratch *calc.Layer
	file    string
	spec    *Spec
	errs    ErrorList
	blocks  map[string]*blockDef
	nodes   []calc.Node
	info    []NodeInfo
	groups  []Group
	// hidden records names declared in scopes that are closed, for the error
	// on a reference from outside.
	hidden map[string]string
	// group is the block use or repeat iteration being expanded.
	instance *Instance
	*work    // visits, stopped and the other counts
}

func (p *parser) errorf(n *yaml.Node, path, item, format string, a ...any) *Diagnostic {
	e := &Diagnostic{File: p.file, Path: path, Item: item, Msg: fmt.Sprintf(format, a...)}
	if n != nil {
		e.Pos = Pos{n.Line, n.Column}
	}
	p.errs = append(p.errs, e)
	if len(p.errs) >= maxErrors {
		p.stopped = true // enough to report; a hostile file could make millions
	}
	return e
}

// resolve follows aliases and counts the nodes walked.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
		p.aliases++
	}
	p.visits++
	if p.visits > maxVisits && !p.stopped {
		p.stopped = true
		p.errorf(n, "", "", "the spec walks more than %s YAML nodes (aliases included); it is too large", calc.Group(maxVisits))
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return p.resolve(n.Content[0])
	}
	return n
}

// pairs returns a mapping's key/value pairs, reporting duplicate keys.
func (p *parser) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	var seen map[string]bool // only for long mappings; short ones scan out
	if len(n.Content) > 32 {
		seen = map[string]bool{}
	}

	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.resolve(n.Content[i]), p.resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, path, "", "a key must be a plain name")
			continue
		}
		dup := seen[k.Value]
		if seen == nil {
			for _, kv := range out {
				dup = dup || kv[0].Value == k.Value
			}
		}
		if dup {
			p.errorf(k, path, "", "duplicate key %q", k.Value)
			continue
		}
		if seen != nil {
			seen[k.Value] = true
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

var topKeys = []string{"name", "input", "batch", "layers", "blocks", "expect"}

func (p *parser) top(doc *yaml.Node) {
	root := p.resolve(doc)
	p.spec.root = root
	if root == nil || root.Kind != yaml.MappingNode {
		p.errorf(root, "", "", "a spec is a mapping with at least input: and layers:")
		return
	}
	var layers, input, expect *yaml.Node
	blocksBad := false
	p.blocks = map[string]*blockDef{}
	for _, kv := range p.pairs(root, "") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "name":
			if v.Kind != yaml.ScalarNode {
				p.errorf(v, "name", "", "name must be a string")
			}
			p.spec.Net.Name = v.Value
		case "input":
			input = v
			p.spec.InputPos = Pos{v.Line, v.Column}
		case "batch":
			b, ok := p.int(v, "batch", "", "batch")
			if ok && (b < 1 || b > calc.MaxArg) {
				p.errorf(v, "batch", "", "batch must be between 1 and %s, got %d", calc.Group(calc.MaxArg), b)
			} else if ok {
				p.spec.Batch = b
			}
		case "layers":
			layers = v
		case "blocks":
			n := len(p.errs)
			p.readBlocks(v)
			blocksBad = len(p.errs) > n
		case "expect":
			expect = v
		default:
			p.errorf(k, "", "", "unknown top-level key %q%s", k.Value, suggest(k.Value, topKeys))
		}
	}
	if input == nil {
		p.errorf(root, "", "", "the spec has no input: (channels first, batch excluded, e.g. input: [3, 224, 224])")
	} else {
		p.readInput(input)
	}
	if layers == nil {
		p.errorf(root, "", "", "the spec has no layers:")
	}
	n := len(p.errs)
	p.checkCycles()
	// Layers are expanded despite other errors (all errors of a file in one
	// run), but not over broken blocks: their uses would only add noise.
	if layers != nil && !blocksBad && len(p.errs) == n {
		if layers.Kind != yaml.SequenceNode {
			p.errorf(layers, "layers", "", "layers must be a list of items")
		} else {
			c := &ctx{scope: &scope{names: map[string]int{}}}
			p.items(layers, c, calc.Input, "layers")
		}
	}
	if expect != nil {
		p.readTotals(expect)
	}
}

func (p *parser) readInput(v *yaml.Node) {
	dims, ok := p.ints(v, "input", "", "input", false)
	if !ok {
		return
	}
	if len(dims) < 1 || len(dims) > 4 {
		p.errorf(v, "input", "", "input needs 1 to 4 sizes, channels first, batch excluded ([C], [C, L], [C, H, W] or [C, D, H, W]); got %d", len(dims))
		return
	}
	for _, d := range dims {
		if d < 1 || d > calc.MaxDim {
			p.errorf(v, "input", "", "input sizes must be between 1 and %s, got %d", calc.Group(calc.MaxDim), d)
			return
		}
	}
	p.spec.Net.Input = append(calc.Shape{p.spec.Batch}, dims...)
}

func (p *parser) readTotals(v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "expect", "", "the top-level expect is a mapping of output, params, buffers, macs")
		return
	}
	t := &p.spec.Totals
	t.Pos = map[string]Pos{}
	for _, kv := range p.pairs(v, "expect") {
		k, val := kv[0], kv[1]
		t.Pos[k.Value] = Pos{val.Line, val.Column}
		path := "expect." + k.Value
		switch k.Value {
		case "output":
			if s, ok := p.ints(val, path, "", "output", true); ok {
				t.Output = &s
			}
		case "params", "buffers", "macs":
			n, ok := p.int(val, path, "", k.Value)
			if !ok {
				continue
			}
			if n < 0 {
				p.errorf(val, path, "", "%s must not be negative", k.Value)
				continue
			}
			switch k.Value {
			case "params":
				t.Params = &n
			case "buffers":
				t.Buffers = &n
			default:
				t.MACs = &n
			}
		default:
			p.errorf(k, "expect", "", "unknown expectation %q%s", k.Value, suggest(k.Value, []string{"output", "params", "buffers", "macs"}))
		}
	}
}

// nameNodes gives every node a unique display name: its name: when given,
// else type_k counted per type from 1; a repeated name gets .2, .3, ...
func (p *parser) nameNodes() {
	nodes := p.spec.Net.Nodes
	var count [calc.NumOps]int
	explicit := false
	for i := range nodes {
		if nodes[i].Name != "" {
			explicit = true
			continue
		}
		t := nodes[i].Type
		count[t]++
		nodes[i].Name = t.String() + "_" + strconv.Itoa(count[t])
	}
	if !explicit {
		return // type_k names are unique among themselves
	}
	used := map[string]int{}
	for i := range nodes {
		used[nodes[i].Name]++
	}
	seen := map[string]int{}
	for i := range nodes {
		n := nodes[i].Name
		if used[n] > 1 {
			seen[n]++
			if seen[n] > 1 {
				nodes[i].Name = n + "." + strconv.Itoa(seen[n])
			}
		}
	}
}

// blockNames lists the blocks, sorted.
func (p *parser) blockNames() []string {
	var s []string
	for n := range p.blocks {
		s = append(s, n)
	}
	sort.Strings(s)
	return s
}

// bareItem is a list item that is a bare type name: "  - relu".
var bareItem = regexp.MustCompile(`^(\s*)-\s+([A-Za-z_][\w-]*)\s*(#.*)?$`)

// yamlHint turns two YAML errors that newcomers meet into advice: a key
// under a bare item, and a tab in the indentation.
func yamlHint(d *Diagnostic, data []byte) {
	lines := bytes.Split(data, []byte("\n"))
	if d.Line < 1 || d.Line > len(lines) {
		return
	}
	line := string(bytes.TrimRight(lines[d.Line-1], "\r"))
	if i := strings.IndexByte(line, '\t'); i >= 0 && strings.TrimLeft(line[:i], " ") == "" {
		d.Col = i + 1
		d.Msg += fmt.Sprintf("; YAML indents with spaces, not tabs: there is a tab at line %d, column %d", d.Line, i+1)
		return
	}
	if strings.Contains(d.Msg, "mapping values are not allowed") {
		// The nearest line above that is not blank or a comment.
		for j := d.Line - 2; j >= 0; j-- {
			prev := strings.TrimRight(string(lines[j]), "\r")
			if t := strings.TrimSpace(prev); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			if m := bareItem.FindStringSubmatch(prev); m != nil {
				key := strings.TrimSpace(line)
				if k := strings.IndexByte(key, ':'); k > 0 {
					key = key[:k]
				}
				d.Col = len(line) - len(strings.TrimLeft(line, " ")) + 1
				d.Msg += fmt.Sprintf("; the bare item - %s (line %d) takes no keys: write `- %s:` with %s: under it, or `- %s: {%s: ...}`",
					m[2], j+1, m[2], key, m[2], key)
			}
			break
		}
	}
}
