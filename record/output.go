package record

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gperf-dev/gperf/perfdata"
)

// output is the perf.data being written: a temporary file beside the
// target until the session is under way (so a failed start leaves the
// old perf.data alone), then renamed to the target with the old file
// moved to <target>.old, as perf does.
type output struct {
	path    string // the target, "-" for a pipe
	tmp     string // the temporary name while not committed
	f       *os.File
	w       recWriter
	fw      *perfdata.Writer // file mode
	renamed bool
}

func (s *session) createOutput() (*output, error) {
	o := &output{path: s.opts.Output}
	attrs := s.attrs()
	if s.pipe {
		out := s.opts.Stdout
		if out == nil {
			out = os.Stdout
		}
		w, err := perfdata.NewPipeWriter(out, attrs, s.features(nil))
		if err != nil {
			return nil, fmt.Errorf("record: write pipe: %w", err)
		}
		o.w = w
		return o, nil
	}
	dir := filepath.Dir(o.path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(o.path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("record: create %s: %w", o.path, err)
	}
	o.f, o.tmp = f, f.Name()
	w, err := perfdata.NewWriter(f, attrs, nil)
	if err != nil {
		f.Close()
		os.Remove(o.tmp)
		return nil, fmt.Errorf("record: write %s: %w", o.path, err)
	}
	o.w, o.fw = w, w
	return o, nil
}

// commit moves the file to its name: from now on it is perf.data.
func (o *output) commit() error {
	if o.f == nil {
		return nil
	}
	if err := o.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if st, err := os.Stat(o.path); err == nil && st.Size() > 0 {
		if err := os.Rename(o.path, o.path+".old"); err != nil {
			return fmt.Errorf("move %s to %s.old: %w", o.path, o.path, err)
		}
	}
	if err := os.Rename(o.tmp, o.path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", o.tmp, o.path, err)
	}
	o.renamed = true
	return nil
}

// abort removes a file that never became perf.data.
func (o *output) abort() {
	if o.f == nil {
		return
	}
	o.f.Close()
	if !o.renamed {
		os.Remove(o.tmp)
	}
}

// finish writes the features, rewrites the header and closes the file,
// returning its size.
func (o *output) finish(feat *perfdata.Features) (int64, error) {
	if o.fw != nil {
		o.fw.Features = feat
	}
	if err := o.w.Close(); err != nil {
		return 0, fmt.Errorf("write %s: %w", o.path, err)
	}
	if o.f == nil {
		return 0, nil
	}
	st, err := o.f.Stat()
	o.f.Close()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// recWriter is what file and pipe writers have in common.
type recWriter interface {
	WriteRaw(b []byte) error
	Flush() error
	Close() error
}
