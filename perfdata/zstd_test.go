package perfdata

import (
	"bytes"
	"fmt"
	"math/rand"
	"os/exec"
	"testing"
)

// TestZstdCLI compresses data of several kinds with the zstd command at
// several levels and checks the decoder gives the data back, fed in
// pieces as COMPRESSED records feed it.
func TestZstdCLI(t *testing.T) {
	zstd, err := exec.LookPath("zstd")
	if err != nil {
		t.Fatal("the zstd command is needed (scripts/deps.sh installs it)")
	}
	rng := rand.New(rand.NewSource(1))
	words := []string{"perf", "sample", "0x7f3a", "mmap", "[kernel.kallsyms]", "ldlm_resource", "\x00\x00\x00\x00", "\xff\xff\xff\xff"}
	var text bytes.Buffer
	for text.Len() < 600<<10 {
		text.WriteString(words[rng.Intn(len(words))])
		if rng.Intn(5) == 0 {
			fmt.Fprintf(&text, "%d", rng.Intn(100000))
		}
	}
	random := make([]byte, 300<<10)
	rng.Read(random)
	inputs := map[string][]byte{
		"text":   text.Bytes(),
		"zeros":  make([]byte, 1<<20),
		"random": random,
		"small":  []byte("perf.data"),
		"empty":  nil,
	}
	for name, in := range inputs {
		for _, args := range [][]string{{"-1"}, {"-3", "--no-check"}, {"-9"}, {"-19"}, {"--ultra", "-22"}, {"--fast=3"}} {
			cmd := exec.Command(zstd, append([]string{"-q", "-c"}, args...)...)
			cmd.Stdin = bytes.NewReader(in)
			comp, err := cmd.Output()
			if err != nil {
				t.Fatalf("zstd %v: %v", args, err)
			}
			// Two frames back to back, fed in uneven pieces.
			stream := append(append([]byte{}, comp...), comp...)
			var z zstdStream
			var out []byte
			for i := 0; i < len(stream); {
				n := 1 + rng.Intn(70000)
				if i+n > len(stream) {
					n = len(stream) - i
				}
				z.pending = append(z.pending, stream[i:i+n]...)
				if out, err = z.decode(out); err != nil {
					t.Fatalf("%s, zstd %v: %v", name, args, err)
				}
				i += n
			}
			want := append(append([]byte{}, in...), in...)
			if !bytes.Equal(out, want) || len(z.pending) != 0 || z.inFrame {
				t.Errorf("%s, zstd %v: decoded %d bytes, want %d (%d pending, in frame %v)", name, args, len(out), len(want), len(z.pending), z.inFrame)
			}
		}
	}
}
