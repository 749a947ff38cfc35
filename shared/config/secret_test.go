package config

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type secretFunc func(ctx context.Context) (*secretsmanager.GetSecretValueOutput, error)

func (f secretFunc) GetSecretValue(ctx context.Context, _ *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx)
}

// TestSecretHasDeadline: a caller without a deadline (start-up code on
// context.Background) still gets SecretTimeout.
func TestSecretHasDeadline(t *testing.T) {
	var left time.Duration
	got, err := secret(context.Background(), secretFunc(func(ctx context.Context) (*secretsmanager.GetSecretValueOutput, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		left = time.Until(dl)
		return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(" tok \n")}, nil
	}), "s")
	if err != nil || got != "tok" {
		t.Fatalf("secret = %q, %v", got, err)
	}
	if left <= SecretTimeout-time.Second || left > SecretTimeout {
		t.Errorf("call had %v left, want about %v", left, SecretTimeout)
	}
}

// TestSecretBlackHole: a Secrets Manager that accepts connections and never
// answers fails within the caller's deadline, naming the secret.
func TestSecretBlackHole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Secret(ctx, cfg, "platform-token")
	if took := time.Since(start); took > 2300*time.Millisecond {
		t.Errorf("took %v", took)
	}
	if err == nil || !strings.Contains(err.Error(), "platform-token") {
		t.Errorf("err = %v, want one naming the secret", err)
	}
	select {
	case c := <-accepted:
		c.Close()
	default:
		t.Errorf("never connected to the black hole")
	}
}
