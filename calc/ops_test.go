package calc

import (
	"reflect"
	"strings"
	"testing"
)

// TestOpTable checks that every kind has a complete entry: a unique name,
// its PyTorch class, the functions Analyze calls, and an argument schema
// whose defaults fit the fields they set.
func TestOpTable(t *testing.T) {
	if len(Ops()) != NumOps-1 {
		t.Fatalf("Ops() lists %d kinds, want %d", len(Ops()), NumOps-1)
	}
	names := map[string]Op{}
	for _, op := range Ops() {
		info := op.Info()
		if info.Name == "" || info.Torch == "" || info.Shape == nil {
			t.Errorf("kind %d: incomplete entry (name %q, torch %q, shape set %v)", op, info.Name, info.Torch, info.Shape != nil)
			continue
		}
		if prev, ok := names[info.Name]; ok {
			t.Errorf("%s: name also used by kind %d", info.Name, prev)
		}
		names[info.Name] = op
		if info.Saved == nil {
			t.Errorf("%s: no Saved rule (what autograd keeps for backward; calc/memory.go)", info.Name)
		}
		if op.String() != info.Name {
			t.Errorf("%s: String() = %q", info.Name, op.String())
		}
		// A spec names the kind by its name, its class or an alias, in any case.
		if !info.Merge {
			for _, n := range append([]string{info.Name, info.Torch, strings.ToUpper(info.Name)}, info.Aliases...) {
				if got, ok := Lookup(n); !ok || got != op {
					t.Errorf("%s: Lookup(%q) = %v, %v", info.Name, n, got, ok)
				}
			}
		} else if _, ok := Lookup(info.Name); ok {
			t.Errorf("%s: a merge must not be found by Lookup", info.Name)
		}
		// The name says the rank (conv2d: 2) exactly when the entry does.
		wantRank := 0
		if n := info.Name; len(n) > 2 && n[len(n)-1] == 'd' && n[len(n)-2] >= '1' && n[len(n)-2] <= '3' {
			wantRank = int(n[len(n)-2] - '0')
		}
		if info.Rank != wantRank {
			t.Errorf("%s: rank %d, its name says %d", info.Name, info.Rank, wantRank)
		}
		if info.Primary != "" && info.Arg(info.Primary) == nil {
			t.Errorf("%s: primary argument %q is not in the schema", info.Name, info.Primary)
		}
		for _, name := range info.OneOf {
			if info.Arg(name) == nil {
				t.Errorf("%s: one-of argument %q is not in the schema", info.Name, name)
			}
		}
		spellings := map[string]bool{}
		for _, a := range info.Args {
			for _, s := range append([]string{a.Name}, a.Aliases...) {
				if spellings[s] {
					t.Errorf("%s: argument spelling %q used twice", info.Name, s)
				}
				spellings[s] = true
			}
			checkArg(t, info.Name, a)
		}
	}
	if _, ok := Lookup("no-such-layer"); ok {
		t.Error("Lookup found a kind that does not exist")
	}
	if Unknown.Info().Shape != nil || Op(200).Info().Name != "" {
		t.Error("kinds outside the table must have empty entries")
	}
}

// checkArg checks that an argument's default has the type of the field it
// sets, and that the kind of value fits the field.
func checkArg(t *testing.T, op string, a Arg) {
	t.Helper()
	if a.Field == nil {
		if a.Default != nil {
			t.Errorf("%s.%s: a default but no field", op, a.Name)
		}
		if a.Kind != ArgIgnored && a.Kind != ArgEnum && a.Kind != ArgRef {
			t.Errorf("%s.%s: no field, and neither ignored nor a checked enum", op, a.Name)
		}
		return
	}
	var l Layer
	field := reflect.TypeOf(a.Field(&l))
	if field.Kind() != reflect.Pointer {
		t.Errorf("%s.%s: Field returns %v, not a pointer", op, a.Name, field)
		return
	}
	elem := field.Elem()
	if a.Default != nil && reflect.TypeOf(a.Default) != elem {
		t.Errorf("%s.%s: default %v (%T) does not fit the field's type %v", op, a.Name, a.Default, a.Default, elem)
	}
	want := map[ArgKind][]reflect.Type{
		ArgInt: {reflect.TypeFor[int64]()}, ArgDim: {reflect.TypeFor[int]()},
		ArgSizes: {reflect.TypeFor[[]int64]()}, ArgPadding: {reflect.TypeFor[[]int64]()}, ArgOutSize: {reflect.TypeFor[[]int64]()},
		ArgPadList: {reflect.TypeFor[[]int64]()}, ArgShape: {reflect.TypeFor[[]int64]()},
		ArgBool: {reflect.TypeFor[bool](), reflect.TypeFor[*bool]()}, ArgFloat: {reflect.TypeFor[float64]()},
		ArgScale: {reflect.TypeFor[[]float64]()}, ArgEnum: {reflect.TypeFor[string]()},
	}[a.Kind]
	for _, w := range want {
		if elem == w {
			return
		}
	}
	t.Errorf("%s.%s: kind %d sets a field of type %v", op, a.Name, a.Kind, elem)
}
