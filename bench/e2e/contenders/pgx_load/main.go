// Command pgx_load loads `pgingest generate KIND` NDJSON into PostgreSQL the way a pgx user
// would today: contender for the end-to-end benchmark (bench/e2e).
//
//	pgx_load --db CONNINFO --table [SCHEMA.]TABLE --kind spans|events|snapshots|vectors FILE
//
// It reads the file line by line, decodes each record with encoding/json into a struct of the
// kind, converts the values to the Go types pgx's binary codecs take (time.Time,
// time.Duration, numeric as its decimal text, []float32, jsonb as the raw JSON) and sends them
// with Tx.CopyFrom from a CopyFromSource that reads the next line only when pgx asks for the
// next row, so memory stays bounded. One connection, one transaction. Prints {"rows": N} on
// success; on any error prints what and where (file and line) on stderr, commits nothing and
// exits 1.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgtype"
	"github.com/jackc/pgx/v4"
)

type span struct {
	TraceID    string          `json:"trace_id"`
	SpanID     int64           `json:"span_id"`
	ParentID   *int64          `json:"parent_id"`
	Name       string          `json:"name"`
	StartTime  time.Time       `json:"start_time"`
	Duration   *string         `json:"duration"`
	Status     *string         `json:"status"`
	CostUSD    *json.Number    `json:"cost_usd"`
	Attributes json.RawMessage `json:"attributes"`
	Embedding  []float32       `json:"embedding"`
}

type event struct {
	ID       int64           `json:"id"`
	Stream   string          `json:"stream"`
	TS       time.Time       `json:"ts"`
	Type     string          `json:"type"`
	RunID    string          `json:"run_id"`
	FlowName string          `json:"flow_name"`
	StepName *string         `json:"step_name"`
	StepID   *int32          `json:"step_id"`
	Attempt  *int32          `json:"attempt"`
	Payload  json.RawMessage `json:"payload"`
}

type snapshot struct {
	ID    int64           `json:"id"`
	Name  string          `json:"name"`
	State json.RawMessage `json:"state"`
}

type vector struct {
	ID        int64           `json:"id"`
	Embedding []float32       `json:"embedding"`
	Metadata  json.RawMessage `json:"metadata"`
}

// kind: the columns of `pgingest generate KIND --schema` in order, and the row of one line.
type kind struct {
	columns []string
	row     func(line []byte) ([]interface{}, error)
}

var kinds = map[string]kind{
	"spans": {
		[]string{"trace_id", "span_id", "parent_id", "name", "start_time", "duration", "status",
			"cost_usd", "attributes", "embedding"},
		func(line []byte) ([]interface{}, error) {
			var s span
			if err := json.Unmarshal(line, &s); err != nil {
				return nil, err
			}
			duration, err := parseDuration(s.Duration)
			if err != nil {
				return nil, fmt.Errorf("duration: %w", err)
			}
			traceID, err := uuid(s.TraceID)
			if err != nil {
				return nil, fmt.Errorf("trace_id: %w", err)
			}
			var cost interface{}
			if s.CostUSD != nil {
				var n pgtype.Numeric
				if err := n.Set(s.CostUSD.String()); err != nil {
					return nil, fmt.Errorf("cost_usd: %w", err)
				}
				cost = &n
			}
			return []interface{}{traceID, s.SpanID, s.ParentID, s.Name, s.StartTime,
				duration, s.Status, cost, jsonb(s.Attributes), s.Embedding}, nil
		},
	},
	"events": {
		[]string{"id", "stream", "ts", "type", "run_id", "flow_name", "step_name", "step_id",
			"attempt", "payload"},
		func(line []byte) ([]interface{}, error) {
			var e event
			if err := json.Unmarshal(line, &e); err != nil {
				return nil, err
			}
			runID, err := uuid(e.RunID)
			if err != nil {
				return nil, fmt.Errorf("run_id: %w", err)
			}
			return []interface{}{e.ID, e.Stream, e.TS, e.Type, runID, e.FlowName, e.StepName,
				e.StepID, e.Attempt, jsonb(e.Payload)}, nil
		},
	},
	"snapshots": {
		[]string{"id", "name", "state"},
		func(line []byte) ([]interface{}, error) {
			var s snapshot
			if err := json.Unmarshal(line, &s); err != nil {
				return nil, err
			}
			return []interface{}{s.ID, s.Name, jsonb(s.State)}, nil
		},
	},
	"vectors": {
		[]string{"id", "embedding", "metadata"},
		func(line []byte) ([]interface{}, error) {
			var v vector
			if err := json.Unmarshal(line, &v); err != nil {
				return nil, err
			}
			return []interface{}{v.ID, v.Embedding, jsonb(v.Metadata)}, nil
		},
	},
}

// uuid: a UUID's text as pgx's uuid codec takes it (pgx would send a Go string as the
// column's bytes unchanged, which is only right for text columns).
func uuid(text string) (*pgtype.UUID, error) {
	var id pgtype.UUID
	if err := id.Set(text); err != nil {
		return nil, err
	}
	return &id, nil
}

// jsonb: the raw JSON text of a value as pgx's jsonb codec takes it; nil (SQL NULL) for a
// missing key or a JSON null.
func jsonb(raw json.RawMessage) interface{} {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	return []byte(raw)
}

// ISO 8601 durations as `pgingest generate` writes them ("PT0.671749S"), with the day, hour
// and minute parts a user would accept as well.
var durationPattern = regexp.MustCompile(
	`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,6}))?S)?)?$`)

func parseDuration(text *string) (interface{}, error) {
	if text == nil {
		return nil, nil
	}
	match := durationPattern.FindStringSubmatch(*text)
	if match == nil || *text == "P" || strings.HasSuffix(*text, "T") {
		return nil, fmt.Errorf("not an ISO 8601 duration: %q", *text)
	}
	units := []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second}
	var total time.Duration
	for i, unit := range units {
		if match[i+1] != "" {
			n, err := strconv.ParseInt(match[i+1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", *text, err)
			}
			total += time.Duration(n) * unit
		}
	}
	if match[5] != "" {
		us, _ := strconv.Atoi(match[5] + strings.Repeat("0", 6-len(match[5])))
		total += time.Duration(us) * time.Microsecond
	}
	return total, nil
}

// lineSource is the pgx.CopyFromSource: each Next reads and decodes one more line.
type lineSource struct {
	reader *bufio.Reader
	kind   kind
	line   int
	values []interface{}
	err    error
}

func (s *lineSource) Next() bool {
	line, err := s.reader.ReadBytes('\n')
	if err == io.EOF && len(line) == 0 {
		return false
	}
	if err != nil && err != io.EOF {
		s.err = fmt.Errorf("reading after line %d: %w", s.line, err)
		return false
	}
	s.line++
	s.values, s.err = s.kind.row(line)
	if s.err != nil {
		s.err = fmt.Errorf("line %d: %w", s.line, s.err)
	}
	return true
}

func (s *lineSource) Values() ([]interface{}, error) { return s.values, s.err }

func (s *lineSource) Err() error { return s.err }

func load(ctx context.Context, conninfo, table string, k kind, file io.Reader) (int64, error) {
	config, err := pgx.ParseConfig(conninfo)
	if err != nil {
		return 0, err
	}
	// pgconn does not know libpq's gssencmode and would send it to the server as a setting;
	// it never negotiates GSSAPI encryption, which is what gssencmode=disable asks for.
	delete(config.RuntimeParams, "gssencmode")
	conn, err := pgx.ConnectConfig(ctx, config)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	source := &lineSource{reader: bufio.NewReaderSize(file, 1<<20), kind: k}
	rows, err := tx.CopyFrom(ctx, pgx.Identifier(strings.Split(table, ".")), k.columns, source)
	if err != nil {
		var pgErr *pgconn.PgError
		if source.err == nil && errors.As(err, &pgErr) && pgErr.Where != "" {
			return 0, fmt.Errorf("%w (%s)", err, pgErr.Where)
		}
		return 0, err
	}
	return rows, tx.Commit(ctx)
}

func main() {
	db := flag.String("db", "", "libpq conninfo (key=value) or postgres:// URL")
	table := flag.String("table", "", "[SCHEMA.]TABLE")
	kindName := flag.String("kind", "", "spans|events|snapshots|vectors")
	flag.Parse()
	k, ok := kinds[*kindName]
	if *db == "" || *table == "" || !ok || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pgx_load --db CONNINFO --table [SCHEMA.]TABLE "+
			"--kind spans|events|snapshots|vectors FILE")
		os.Exit(1)
	}
	path := flag.Arg(0)
	file, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgx_load: %v\n", err)
		os.Exit(1)
	}
	defer file.Close()
	rows, err := load(context.Background(), *db, *table, k, file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgx_load: %s: %v\n", path, err)
		file.Close()
		os.Exit(1)
	}
	fmt.Printf("{\"rows\": %d}\n", rows)
}
