package blueprint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// TemplateSuffix marks a package file as a Go text/template.
const TemplateSuffix = ".tmpl"

// maxTemplateOutput bounds one template's output, so a template cannot
// exhaust memory.
const maxTemplateOutput = 4 << 20

// maxRepeat bounds the counts of repeat, until, untilStep and seq.
const maxRepeat = 10000

// unsafeFunctions are sprig functions templates do not get: those that
// read the machine (environment, DNS, clock, local time zone, entropy) and
// so would make the same blueprint and values give different packages.
var unsafeFunctions = []string{
	// environment and network
	"env", "expandenv", "getHostByName",
	// clock and local time zone
	"now", "ago", "date", "date_in_zone", "dateInZone", "date_modify", "dateModify",
	"must_date_modify", "mustDateModify", "htmlDate", "htmlDateInZone", "toDate", "mustToDate",
	// entropy
	"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes", "randInt",
	"uuidv4", "shuffle", "bcrypt", "htpasswd", "encryptAES",
	"genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
	"genSignedCert", "genSignedCertWithKey",
}

// TemplateFuncs returns the functions templates get: sprig's text
// functions without those that read the machine, with repeat, until,
// untilStep and seq bounded.
func TemplateFuncs() template.FuncMap {
	fm := sprig.TxtFuncMap()
	for _, name := range unsafeFunctions {
		delete(fm, name)
	}
	fm["repeat"] = func(count int, s string) (string, error) {
		if count < 0 || count > maxRepeat || count*len(s) > maxTemplateOutput {
			return "", fmt.Errorf("repeat count %d out of range", count)
		}
		return strings.Repeat(s, count), nil
	}
	until := fm["until"].(func(int) []int)
	fm["until"] = func(count int) ([]int, error) {
		if count > maxRepeat || count < -maxRepeat {
			return nil, fmt.Errorf("until count %d out of range", count)
		}
		return until(count), nil
	}
	untilStep := fm["untilStep"].(func(int, int, int) []int)
	fm["untilStep"] = func(start, stop, step int) ([]int, error) {
		if step == 0 || (stop-start)/step > maxRepeat || (stop-start)/step < -maxRepeat {
			return nil, fmt.Errorf("untilStep(%d, %d, %d) out of range", start, stop, step)
		}
		return untilStep(start, stop, step), nil
	}
	seq := fm["seq"].(func(...int) string)
	fm["seq"] = func(params ...int) (string, error) {
		for _, p := range params {
			if p > maxRepeat || p < -maxRepeat {
				return "", fmt.Errorf("seq argument %d out of range", p)
			}
		}
		return seq(params...), nil
	}
	return fm
}

// TemplateData is what a template sees as its dot.
type TemplateData struct {
	// Values are the validated, layered values.
	Values Values
	// Package is the generated package's name.
	Package string
	// Blueprint names the blueprint and its version.
	Blueprint Ref
}

// ExecuteTemplates runs every *.tmpl file of files with data and returns
// the files with each template replaced by its output (the name without
// .tmpl). Output must be YAML KRM: a file name ending .yaml or .yml, and
// documents with apiVersion, kind and metadata.name. Failures are a
// *TemplateError or a *NotKRMError; files is not modified.
func ExecuteTemplates(files map[string]string, data TemplateData) (map[string]string, error) {
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[k] = v
	}
	for _, path := range sortedKeys(files) {
		if !strings.HasSuffix(path, TemplateSuffix) {
			continue
		}
		target := strings.TrimSuffix(path, TemplateSuffix)
		if _, exists := files[target]; exists {
			return nil, &TemplateError{File: path, Err: fmt.Errorf("output file %s already exists in the package", target)}
		}
		if !strings.HasSuffix(target, ".yaml") && !strings.HasSuffix(target, ".yml") {
			return nil, &NotKRMError{File: target, Template: path, Reason: "a template's output file must end .yaml or .yml"}
		}
		text, err := executeTemplate(path, files[path], data)
		if err != nil {
			return nil, err
		}
		if err := checkKRM(target, path, text); err != nil {
			return nil, err
		}
		delete(out, path)
		out[target] = text
	}
	return out, nil
}

// boundedBuffer fails writes past the output limit.
type boundedBuffer struct{ bytes.Buffer }

var errOutputTooLarge = fmt.Errorf("template output exceeds %d bytes", maxTemplateOutput)

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxTemplateOutput {
		return 0, errOutputTooLarge
	}
	return b.Buffer.Write(p)
}

func executeTemplate(path, src string, data TemplateData) (text string, err error) {
	t, err := template.New(path).Option("missingkey=error").Funcs(TemplateFuncs()).Parse(src)
	if err != nil {
		return "", templateError(path, err)
	}
	var buf boundedBuffer
	if err := t.Execute(&buf, data); err != nil {
		return "", templateError(path, err)
	}
	return buf.String(), nil
}

// templateLocation reads "template: <name>:<line>[:<col>]: " from the
// engine's messages.
var templateLocation = regexp.MustCompile(`^(\d+)(?::(\d+))?:`)

func templateError(path string, err error) error {
	te := &TemplateError{File: path, Err: err}
	msg := err.Error()
	var ee template.ExecError
	if errors.As(err, &ee) {
		msg = ee.Err.Error()
	}
	if rest, ok := strings.CutPrefix(msg, "template: "+path+":"); ok {
		if m := templateLocation.FindStringSubmatch(rest); m != nil {
			te.Line, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				te.Column, _ = strconv.Atoi(m[2])
			}
		}
	}
	return te
}

// yamlLine reads the line of a YAML parser message ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`line (\d+)(?::(\d+))?`)

// checkKRM verifies text is YAML whose documents are KRM resources; lines
// are the file's (the YAML parser's numbers for syntax errors).
func checkKRM(file, template, text string) error {
	dec := kyaml.NewDecoder(strings.NewReader(text))
	docs := 0
	for i := 0; ; i++ {
		var doc kyaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			e := &NotKRMError{File: file, Template: template, Document: i, Reason: err.Error()}
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				e.Line, _ = strconv.Atoi(m[1])
				if m[2] != "" {
					e.Column, _ = strconv.Atoi(m[2])
				}
			}
			return e
		}
		n := &doc
		if n.Kind == kyaml.DocumentNode && len(n.Content) == 1 {
			n = n.Content[0]
		}
		if n.Kind == kyaml.ScalarNode && n.ShortTag() == kyaml.NodeTagNull || n.Kind == kyaml.DocumentNode && len(n.Content) == 0 {
			continue
		}
		docs++
		if reason := krmProblem(kyaml.NewRNode(n)); reason != "" {
			return &NotKRMError{File: file, Template: template, Line: n.Line, Column: n.Column, Document: i, Reason: reason}
		}
	}
	if docs == 0 {
		return &NotKRMError{File: file, Template: template, Reason: "no resources"}
	}
	return nil
}

// krmProblem says what keeps a node from being a KRM resource.
func krmProblem(n *kyaml.RNode) string {
	if n.YNode().Kind != kyaml.MappingNode {
		return "not a map"
	}
	for _, f := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
		v, err := n.Pipe(kyaml.Lookup(f...))
		if err != nil || v == nil || v.YNode().Kind != kyaml.ScalarNode || strings.TrimSpace(v.YNode().Value) == "" {
			return "missing " + strings.Join(f, ".")
		}
	}
	return ""
}
