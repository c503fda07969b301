package tracefs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
	"github.com/gperf-dev/gperf/tracefs"
)

func readFormat(t *testing.T, system, event string) []byte {
	t.Helper()
	testutil.Requires(t, testutil.Root, testutil.Tracefs)
	b, err := os.ReadFile(filepath.Join(testutil.TracingDir, "events", system, event, "format"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseFormatAllEvents parses every format file of the running kernel
// and renders it back: the text must come out byte-identical, so no field,
// attribute or print fmt byte is lost or invented.
func TestParseFormatAllEvents(t *testing.T) {
	testutil.Requires(t, testutil.Root, testutil.Tracefs)
	files, err := filepath.Glob(filepath.Join(testutil.TracingDir, "events", "*", "*", "format"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("only %d format files under %s", len(files), testutil.TracingDir)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := tracefs.ParseFormat(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if f.String() != string(b) {
			testutil.Same(t, "render "+name, name, string(b), "Format.String", f.String())
		}
		// The print fmt arguments joined again must give back the text
		// after the format string, modulo spacing after commas.
		if len(f.PrintFmtArgs) > 0 {
			tail := strings.Join(f.PrintFmtArgs, ", ")
			if !strings.HasSuffix(strings.Join(strings.Fields(f.PrintFmt), " "), strings.Join(strings.Fields(tail), " ")) {
				t.Errorf("%s: args %q are not the tail of print fmt %q", name, f.PrintFmtArgs, f.PrintFmt)
			}
		}
		idText, err := os.ReadFile(filepath.Join(filepath.Dir(name), "id"))
		if err == nil && strings.TrimSpace(string(idText)) != strconv.Itoa(f.ID) {
			t.Errorf("%s: ID %d, id file says %s", name, f.ID, idText)
		}
	}
	t.Logf("%d format files parsed and rendered back", len(files))
}

func TestParseFormatSchedSwitch(t *testing.T) {
	f, err := tracefs.ParseFormat(readFormat(t, "sched", "sched_switch"))
	if err != nil {
		t.Fatal(err)
	}
	// include/trace/events/sched.h: TRACE_EVENT(sched_switch, ...
	// __array(char, prev_comm, TASK_COMM_LEN), __field(pid_t, prev_pid).
	if f.Name != "sched_switch" || len(f.CommonFields) != 4 || f.CommonFields[0].Name != "common_type" {
		t.Fatalf("header/common fields: %+v", f)
	}
	comm := f.Field("prev_comm")
	if comm == nil || comm.Type != "char" || !comm.Array || comm.ArrayLen != 16 || comm.Size != 16 || !comm.IsString() {
		t.Errorf("prev_comm = %+v", comm)
	}
	pid := f.Field("prev_pid")
	if pid == nil || pid.Type != "pid_t" || !pid.Signed || pid.Array || pid.Size != 4 {
		t.Errorf("prev_pid = %+v", pid)
	}
	if !strings.HasPrefix(f.PrintFmtString, "prev_comm=%s prev_pid=%d") || strings.Contains(f.PrintFmtString, `"`) {
		t.Errorf("PrintFmtString = %q", f.PrintFmtString)
	}
	if f.PrintFmtArgs[0] != "REC->prev_comm" || f.PrintFmtArgs[len(f.PrintFmtArgs)-1] != "REC->next_prio" {
		t.Errorf("PrintFmtArgs = %q", f.PrintFmtArgs)
	}
	// One argument per conversion: the nested __print_flags(..., { 1, "S" }, ...)
	// must stay one argument.
	if n := strings.Count(f.PrintFmtString, "%"); n != len(f.PrintFmtArgs) {
		t.Errorf("%d conversions but %d args: %q", n, len(f.PrintFmtArgs), f.PrintFmtArgs)
	}
}

func TestParseFormatSysEnter(t *testing.T) {
	f, err := tracefs.ParseFormat(readFormat(t, "raw_syscalls", "sys_enter"))
	if err != nil {
		t.Fatal(err)
	}
	// include/trace/events/syscalls.h: __array(unsigned long, args, 6).
	args := f.Field("args")
	if args == nil || args.Type != "unsigned long" || args.ArrayLen != 6 || args.Size != 48 || args.Signed || args.IsString() {
		t.Fatalf("args = %+v", args)
	}
	if f.PrintFmtString != "NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)" {
		t.Errorf("PrintFmtString = %q", f.PrintFmtString)
	}
	if len(f.PrintFmtArgs) != 7 || f.PrintFmtArgs[6] != "REC->args[5]" {
		t.Errorf("PrintFmtArgs = %q", f.PrintFmtArgs)
	}
}

// format builds a format file around fields and a print fmt.
func format(fields, printFmt string) []byte {
	return []byte("name: ev\nID: 7\nformat:\n" +
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n" +
		fields + "\nprint fmt: " + printFmt + "\n")
}

func TestParseFormatCases(t *testing.T) {
	for _, tc := range []struct {
		name, fields, print string
		field               tracefs.Field
		fmtString           string
		args                []string
	}{{
		name:      "data_loc string",
		fields:    "\tfield:__data_loc char[] s;\toffset:24;\tsize:4;\tsigned:1;\n",
		print:     `"(%lx) s=\"%s\"", REC->__probe_ip, __get_str(s)`,
		field:     tracefs.Field{Decl: "__data_loc char[] s", Name: "s", Type: "char", Offset: 24, Size: 4, Signed: true, Array: true, DataLoc: true},
		fmtString: `(%lx) s="%s"`,
		args:      []string{"REC->__probe_ip", "__get_str(s)"},
	}, {
		name:      "rel_loc",
		fields:    "\tfield:__rel_loc u8[] buf;\toffset:8;\tsize:4;\tsigned:0;\n",
		print:     `"%s", __get_rel_str(buf)`,
		field:     tracefs.Field{Decl: "__rel_loc u8[] buf", Name: "buf", Type: "u8", Offset: 8, Size: 4, Array: true, RelLoc: true},
		fmtString: "%s",
		args:      []string{"__get_rel_str(buf)"},
	}, {
		name:      "pointer, escapes, concatenation, no args",
		fields:    "\tfield:const char * name;\toffset:8;\tsize:8;\tsigned:0;\n",
		print:     `"a\tb\\n"  "c\n\%"`,
		field:     tracefs.Field{Decl: "const char * name", Name: "name", Type: "const char *", Offset: 8, Size: 8},
		fmtString: "a\tb\\nc\n%",
	}, {
		name:      "array of unknown length, raw newline in format",
		fields:    "\tfield:u8 arr[];\toffset:32;\tsize:4;\tsigned:0;\n",
		print:     "\"x %u\n\", REC->arr[0]",
		field:     tracefs.Field{Decl: "u8 arr[]", Name: "arr", Type: "u8", Offset: 32, Size: 4, Array: true},
		fmtString: "x %u\n",
		args:      []string{"REC->arr[0]"},
	}, {
		name:      "macro length, two dimensions",
		fields:    "\tfield:int m[(4)][2];\toffset:8;\tsize:32;\tsigned:1;\n",
		print:     `"%d, %s", (REC->m[0][1]), ({ char c[] = "),"; c; })`,
		field:     tracefs.Field{Decl: "int m[(4)][2]", Name: "m", Type: "int", Offset: 8, Size: 32, Signed: true, Array: true, ArrayLen: 8},
		fmtString: "%d, %s",
		args:      []string{"(REC->m[0][1])", `({ char c[] = "),"; c; })`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			data := format(tc.fields, tc.print)
			f, err := tracefs.ParseFormat(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Fields) != 1 || f.Fields[0] != tc.field {
				t.Errorf("fields = %+v\nwant %+v", f.Fields, tc.field)
			}
			if f.PrintFmt != tc.print || f.PrintFmtString != tc.fmtString || strings.Join(f.PrintFmtArgs, "|") != strings.Join(tc.args, "|") {
				t.Errorf("print fmt = %q, %q, %q\nwant %q, %q, %q", f.PrintFmt, f.PrintFmtString, f.PrintFmtArgs, tc.print, tc.fmtString, tc.args)
			}
			if f.String() != string(data) {
				t.Errorf("String() = %q\nwant %q", f.String(), data)
			}
		})
	}
}

func TestParseFormatErrors(t *testing.T) {
	ok := string(format("\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n", `"%d", REC->x`))
	for _, tc := range []struct {
		name, data, msg string
	}{
		{"empty", "", "no name: line"},
		{"no ID", strings.Replace(ok, "ID: 7\n", "", 1), "no ID: line"},
		{"bad ID", strings.Replace(ok, "ID: 7", "ID: x7", 1), `line 2: bad ID "x7"`},
		{"no print fmt", ok[:strings.Index(ok, "print fmt")], "no print fmt: line"},
		{"no offset", strings.Replace(ok, "offset:8;", "", 1), "field x: no offset"},
		{"bad size", strings.Replace(ok, "size:4", "size:-4", 1), `field x: bad size "-4"`},
		{"no type", strings.Replace(ok, "int x;", "int [3];", 1), "no type"},
		{"no name", strings.Replace(ok, "int x;", "int *[3];", 1), "no field name"},
		{"unbalanced", strings.Replace(ok, "int x;", "int x];", 1), "unbalanced brackets"},
		{"unterminated", strings.Replace(ok, `"%d"`, `"%d`, 1), "print fmt: unterminated string"},
		{"not quoted", strings.Replace(ok, `"%d", `, ``, 1), "does not start with a quoted string"},
		{"unbalanced args", strings.Replace(ok, `REC->x`, `f(REC->x`, 1), "unclosed '(' in arguments"},
		{"empty arg", strings.Replace(ok, `REC->x`, `REC->x,`, 1), "empty argument 2"},
		{"junk", strings.Replace(ok, "format:\n", "format:\nhello\n", 1), `line 4: unexpected line "hello"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tracefs.ParseFormat([]byte(tc.data))
			var se *tracefs.SyntaxError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want a *SyntaxError containing %q", err, tc.msg)
			}
		})
	}
}
