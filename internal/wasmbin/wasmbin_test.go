package wasmbin

import (
	"bytes"
	"strings"
	"testing"
)

// minimal is (module (func (export "_start"))) with no memory, imports or
// globals, so Instrument must create the type, import and global sections.
var minimal = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type 0: () -> ()
	0x03, 0x02, 0x01, 0x00, // func 0 has type 0
	0x07, 0x0a, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00, // export _start = func 0
	0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // body: no locals, end
}

func TestParseEncodeRoundTrip(t *testing.T) {
	s, err := Parse(minimal)
	if err != nil {
		t.Fatal(err)
	}
	if got := Encode(s); !bytes.Equal(got, minimal) {
		t.Errorf("round trip changed the module:\n got %x\nwant %x", got, minimal)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "not a WebAssembly module"},
		{"text", []byte("hello world"), "not a WebAssembly module"},
		{"component", []byte{0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00}, "components are not"},
		{"truncated section", append(append([]byte(nil), minimal[:8]...), 0x01, 0x10, 0x01), "truncated"},
	}
	for _, tc := range tests {
		if _, err := Parse(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestInstrumentCreatesMissingSections(t *testing.T) {
	out, err := Instrument(minimal, "m")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	var ids []byte
	for _, sec := range s {
		ids = append(ids, sec.ID)
	}
	want := []byte{SectionType, SectionImport, SectionFunction, SectionGlobal, SectionExport, SectionCode}
	if !bytes.Equal(ids, want) {
		t.Fatalf("sections = %v, want %v", ids, want)
	}
	// _start was function 0; after the two imports it is function 2.
	exp := s[4].Payload
	if exp[len(exp)-1] != 0x02 {
		t.Errorf("export not renumbered: %x", exp)
	}
	info, err := ReadInfo(out)
	if err != nil || len(info.Imports) != 2 || info.Imports[0] != (Import{"m", FuncYield, "func"}) || info.Imports[1] != (Import{"m", FuncTableGrow, "func"}) {
		t.Errorf("imports = %+v, %v", info, err)
	}
}

func TestInstrumentRejectsUnknownOpcodes(t *testing.T) {
	// The same module with a body of (0x06: try, an exception-handling opcode).
	bad := append(append([]byte(nil), minimal[:len(minimal)-6]...), 0x0a, 0x05, 0x01, 0x03, 0x00, 0x06, 0x0b)
	if _, err := Instrument(bad, "m"); err == nil || !strings.Contains(err.Error(), "unsupported opcode") {
		t.Errorf("err = %v, want unsupported opcode", err)
	}
}
